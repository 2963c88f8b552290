#include "protocol/query.hpp"

#include <charconv>

#include "protocol/ids.hpp"

namespace hotlead {

namespace {

constexpr std::string_view sort_names[] = {"created_at", "updated_at", "last_activity_at",
                                           "email"};

problem bad_query(std::string detail) {
  return {errc::invalid_query, std::move(detail)};
}

int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string to_hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view s) {
  if (s.size() % 2)
    return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = hexval(s[i]), lo = hexval(s[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// cursor = <sort>.<d|a>.<num>.<id hex>.<hex of str>
std::optional<problem> parse_cursor(std::string_view c, list_query& q) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (parts.size() < 5) {
    auto dot = c.find('.', pos);
    parts.push_back(c.substr(pos, dot == c.npos ? c.npos : dot - pos));
    if (dot == c.npos)
      break;
    pos = dot + 1;
  }
  problem bad{errc::invalid_cursor,
              "cursor is not one this server issued; pass next_cursor from a previous page "
              "unchanged, with the same sort"};
  if (parts.size() != 5 || parts[0] != sort_names[static_cast<size_t>(q.sort)] ||
      parts[1] != (q.descending ? "d" : "a"))
    return bad;
  int64_t num = 0;
  auto [p, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), num);
  auto id = parse_id(parts[3]);
  auto str = from_hex(parts[4]);
  if (ec != std::errc{} || p != parts[2].data() + parts[2].size() || !id || !str)
    return bad;
  q.has_cursor = true;
  q.after = {num, std::move(*str), *id};
  return std::nullopt;
}

std::optional<problem> parse_time_param(std::string_view name, const std::string& v,
                                        millis& out) {
  auto t = parse_time(v);
  if (!t)
    return bad_query("parameter '" + std::string{name} +
                     "' must be an ISO 8601 time like 2026-11-22T10:00:00Z");
  out = *t;
  return std::nullopt;
}

std::optional<problem> apply_param(std::string_view k, const std::string& v, list_query& q,
                                   std::string& cursor) {
  if (k == "status") {
    size_t pos = 0;
    while (pos <= v.size()) {
      auto comma = v.find(',', pos);
      auto name = std::string_view{v}.substr(pos, comma == v.npos ? v.npos : comma - pos);
      auto st = parse_status(name);
      if (!st)
        return bad_query("parameter 'status' takes new, contacted, qualified, unqualified, "
                         "converted or lost, comma-separated");
      q.status_mask |= static_cast<uint8_t>(1u << static_cast<unsigned>(*st));
      if (comma == v.npos)
        break;
      pos = comma + 1;
    }
  } else if (k == "source") {
    q.source = v;
  } else if (k == "owner") {
    q.owner = v;
  } else if (k == "tag") {
    q.tag = v;
  } else if (k == "created_after") {
    return parse_time_param(k, v, q.created_after);
  } else if (k == "created_before") {
    return parse_time_param(k, v, q.created_before);
  } else if (k == "updated_after") {
    return parse_time_param(k, v, q.updated_after);
  } else if (k == "updated_before") {
    return parse_time_param(k, v, q.updated_before);
  } else if (k == "sort") {
    std::string_view s = v;
    q.descending = !s.empty() && s.front() == '-';
    if (q.descending)
      s.remove_prefix(1);
    bool found = false;
    for (size_t i = 0; i < std::size(sort_names); ++i)
      if (sort_names[i] == s) {
        q.sort = static_cast<sort_field>(i);
        found = true;
      }
    if (!found)
      return bad_query("parameter 'sort' takes created_at, updated_at, last_activity_at or "
                       "email, with '-' for descending");
  } else if (k == "limit") {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n < 1 || n > 1000)
      return bad_query("parameter 'limit' must be a whole number from 1 to 1000");
    q.limit = n;
  } else if (k == "cursor") {
    cursor = v;
  } else {
    return bad_query("unknown parameter '" + std::string{k} +
                     "'; use status, source, owner, tag, created_after, created_before, "
                     "updated_after, updated_before, sort, limit, cursor");
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size())
        return std::nullopt;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<problem> parse_list_query(std::string_view qs, list_query& q) {
  std::string cursor;
  size_t pos = 0;
  while (pos < qs.size()) {
    auto amp = qs.find('&', pos);
    auto pair = qs.substr(pos, amp == qs.npos ? qs.npos : amp - pos);
    pos = amp == qs.npos ? qs.size() : amp + 1;
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto k = url_decode(pair.substr(0, eq));
    auto v = url_decode(eq == pair.npos ? std::string_view{} : pair.substr(eq + 1));
    if (!k || !v)
      return bad_query("query string has a malformed %-escape");
    if (auto p = apply_param(*k, *v, q, cursor))
      return p;
  }
  if (!cursor.empty())
    return parse_cursor(cursor, q);
  return std::nullopt;
}

bool matches(const lead& l, const list_query& q) {
  if (l.org != q.org)
    return false;
  if (q.status_mask && !(q.status_mask & (1u << static_cast<unsigned>(l.status))))
    return false;
  if (!q.source.empty() && symbol_name(l.source) != q.source)
    return false;
  if (!q.owner.empty() && l.owner() != q.owner)
    return false;
  if (!q.tag.empty()) {
    bool found = false;
    for (auto t : l.tags)
      found |= symbol_name(t) == q.tag;
    if (!found)
      return false;
  }
  return l.created_at >= q.created_after && l.created_at < q.created_before &&
         l.updated_at >= q.updated_after && l.updated_at < q.updated_before;
}

sort_key key_of(const lead& l, sort_field f) {
  switch (f) {
    case sort_field::created_at: return {l.created_at, {}, l.id};
    case sort_field::updated_at: return {l.updated_at, {}, l.id};
    case sort_field::last_activity_at: return {l.last_activity_at, {}, l.id};
    case sort_field::email: return {0, std::string{l.email()}, l.id};
  }
  return {};
}

bool comes_before(const sort_key& a, const sort_key& b, const list_query& q) {
  auto less = [](const sort_key& x, const sort_key& y) {
    if (x.num != y.num)
      return x.num < y.num;
    if (x.str != y.str)
      return x.str < y.str;
    return x.id < y.id;
  };
  return q.descending ? less(b, a) : less(a, b);
}

std::string encode_cursor(const sort_key& k, const list_query& q) {
  std::string out{sort_names[static_cast<size_t>(q.sort)]};
  out += q.descending ? ".d." : ".a.";
  out += std::to_string(k.num);
  out += '.';
  append_id(out, k.id);
  out += '.';
  out += to_hex(k.str);
  return out;
}

} // namespace hotlead
