#include "protocol/codec.hpp"

#include <cstring>

#include "protocol/score.hpp"

namespace hotlead {

namespace {

constexpr uint8_t lead_version = 2; // 1: a ring of recent events instead of scoring state
constexpr uint8_t org_version = 1;
constexpr uint8_t key_version = 1;
constexpr uint8_t score_state_version = 1;
constexpr uint8_t history_version = 1; // JSON entries (from before) start with '{'

// -- writing ------------------------------------------------------------------

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(v | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_signed(std::string& out, int64_t v) {
  put_varint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

void put_fixed64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

// -- reading ------------------------------------------------------------------

struct reader {
  std::string_view in;
  bool ok = true;

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty())
        return fail();
      auto b = static_cast<uint8_t>(in.front());
      in.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
    }
    return fail();
  }
  int64_t signed_int() {
    uint64_t v = varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::string_view str() {
    uint64_t n = varint();
    if (!ok || n > in.size()) {
      fail();
      return {};
    }
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
  uint64_t fixed64() {
    if (in.size() < 8)
      return fail();
    uint64_t v;
    std::memcpy(&v, in.data(), 8);
    in.remove_prefix(8);
    return v;
  }
  uint8_t byte() {
    if (in.empty())
      return static_cast<uint8_t>(fail());
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    return b;
  }
  uint64_t fail() {
    ok = false;
    in = {};
    return 0;
  }
};


// The scoring tail of a lead record, also the body of an 'R' record.
void put_score_state(std::string& out, const lead& l) {
  put_varint(out, l.model_version);
  put_varint(out, l.history_seq);
  put_signed(out, l.scored_total);
  put_varint(out, l.engagement.size());
  for (auto& e : l.engagement) {
    put_varint(out, e.rule);
    uint32_t bits;
    std::memcpy(&bits, &e.value, 4);
    put_varint(out, bits);
    put_varint(out, e.ref);
    put_varint(out, e.window);
    put_signed(out, e.earned);
  }
}

bool read_score_state(reader& r, lead& l) {
  l.model_version = static_cast<uint32_t>(r.varint());
  l.history_seq = static_cast<uint32_t>(r.varint());
  l.scored_total = r.signed_int();
  auto n = r.varint();
  if (n > 1024)
    return false;
  l.engagement.clear();
  l.engagement.reserve(n);
  for (uint64_t i = 0; i < n && r.ok; ++i) {
    engagement_state e;
    e.rule = static_cast<uint16_t>(r.varint());
    auto bits = static_cast<uint32_t>(r.varint());
    std::memcpy(&e.value, &bits, 4);
    e.ref = static_cast<uint32_t>(r.varint());
    e.window = static_cast<uint32_t>(r.varint());
    e.earned = static_cast<int32_t>(r.signed_int());
    l.engagement.push_back(e);
  }
  return r.ok && r.in.empty();
}

} // namespace

void encode(std::string& out, const lead& l) {
  out += static_cast<char>(lead_version);
  put_fixed64(out, l.id);
  put_fixed64(out, l.org);
  for (size_t i = 0; i < text_count; ++i)
    put_str(out, l.get(static_cast<text>(i)));
  put_str(out, symbol_name(l.source));
  out += static_cast<char>(l.status);
  put_varint(out, l.tags.size());
  for (auto t : l.tags)
    put_str(out, symbol_name(t));
  put_varint(out, l.attributes.size());
  for (auto& a : l.attributes) {
    put_str(out, symbol_name(a.key));
    out += static_cast<char>(a.value.index());
    if (auto* s = std::get_if<std::string>(&a.value)) {
      put_str(out, *s);
    } else if (auto* d = std::get_if<double>(&a.value)) {
      uint64_t bits;
      std::memcpy(&bits, d, 8);
      put_fixed64(out, bits);
    } else {
      out += static_cast<char>(std::get<bool>(a.value));
    }
  }
  put_signed(out, l.created_at);
  put_signed(out, l.updated_at);
  put_signed(out, l.last_activity_at);
  put_varint(out, l.event_seq);
  put_varint(out, l.counters.size());
  for (auto& c : l.counters) {
    put_str(out, symbol_name(c.type));
    put_varint(out, c.count);
    put_signed(out, c.first_at);
    put_signed(out, c.last_at);
  }
  put_score_state(out, l);
}

bool decode(std::string_view in, lead& l) {
  reader r{in};
  auto version = r.byte();
  if (version != lead_version && version != 1)
    return false;
  l.id = r.fixed64();
  l.org = r.fixed64();
  std::array<std::string_view, text_count> texts;
  for (auto& t : texts)
    t = r.str();
  if (!r.ok)
    return false;
  l.texts.assign(texts);
  l.source = intern(r.str());
  auto st = r.byte();
  if (st > static_cast<uint8_t>(lead_status::lost))
    return false;
  l.status = static_cast<lead_status>(st);
  auto n = r.varint();
  if (n > 1024)
    return false;
  l.tags.clear();
  for (uint64_t i = 0; i < n && r.ok; ++i)
    l.tags.push_back(intern(r.str()));
  n = r.varint();
  if (n > 4096)
    return false;
  l.attributes.clear();
  l.attributes.reserve(n);
  for (uint64_t i = 0; i < n && r.ok; ++i) {
    attribute a;
    a.key = intern(r.str());
    switch (r.byte()) {
      case 0: a.value = std::string{r.str()}; break;
      case 1: {
        uint64_t bits = r.fixed64();
        double d;
        std::memcpy(&d, &bits, 8);
        a.value = d;
        break;
      }
      case 2: a.value = r.byte() != 0; break;
      default: return false;
    }
    l.attributes.push_back(std::move(a));
  }
  l.created_at = r.signed_int();
  l.updated_at = r.signed_int();
  l.last_activity_at = r.signed_int();
  l.event_seq = r.varint();
  n = r.varint();
  if (n > 4096)
    return false;
  l.counters.clear();
  l.counters.reserve(n);
  for (uint64_t i = 0; i < n && r.ok; ++i) {
    event_counter c;
    c.type = intern(r.str());
    c.count = static_cast<uint32_t>(r.varint());
    c.first_at = r.signed_int();
    c.last_at = r.signed_int();
    l.counters.push_back(c);
  }
  l.engagement.clear();
  if (version == 1) { // a ring of recent events, replaced by the scoring state
    n = r.varint();
    for (uint64_t i = 0; i < n && r.ok && i < 64; ++i) {
      r.str();
      r.varint();
    }
    l.model_version = l.history_seq = 0;
    l.scored_total = 0;
    return r.ok && r.in.empty();
  }
  return read_score_state(r, l);
}

void encode(std::string& out, const org& o) {
  out += static_cast<char>(org_version);
  put_fixed64(out, o.id);
  put_str(out, o.name);
  put_str(out, o.industry);
  put_str(out, o.plan);
  put_signed(out, o.created_at);
}

bool decode(std::string_view in, org& o) {
  reader r{in};
  if (r.byte() != org_version)
    return false;
  o.id = r.fixed64();
  o.name = r.str();
  o.industry = r.str();
  o.plan = r.str();
  o.created_at = r.signed_int();
  return r.ok && r.in.empty();
}

void encode(std::string& out, const api_key& k) {
  out += static_cast<char>(key_version);
  put_str(out, k.hash);
  put_fixed64(out, k.id);
  put_fixed64(out, k.org);
  out += static_cast<char>(k.key_role);
  put_str(out, k.name);
  put_signed(out, k.created_at);
}

bool decode(std::string_view in, api_key& k) {
  reader r{in};
  if (r.byte() != key_version)
    return false;
  k.hash = r.str();
  k.id = r.fixed64();
  k.org = r.fixed64();
  auto role_byte = r.byte();
  if (role_byte > static_cast<uint8_t>(role::viewer))
    return false;
  k.key_role = static_cast<role>(role_byte);
  k.name = r.str();
  k.created_at = r.signed_int();
  return r.ok && r.in.empty();
}

void encode_score_state(std::string& out, const lead& l) {
  out += static_cast<char>(score_state_version);
  put_varint(out, l.event_seq);
  put_score_state(out, l);
}

bool decode_score_state(std::string_view in, lead& l) {
  reader r{in};
  if (r.byte() != score_state_version || r.varint() != l.event_seq || !r.ok)
    return false;
  lead copy;
  if (!read_score_state(r, copy))
    return false;
  l.model_version = copy.model_version;
  l.history_seq = copy.history_seq;
  l.scored_total = copy.scored_total;
  l.engagement = std::move(copy.engagement);
  return true;
}

void encode_history(std::string& out, millis at, score_cause cause, std::string_view detail,
                    const score& s, int64_t delta, uint32_t version) {
  out += static_cast<char>(history_version);
  put_signed(out, at);
  out += static_cast<char>(cause);
  put_str(out, detail);
  put_signed(out, s.total);
  put_signed(out, delta);
  put_signed(out, s.fit);
  put_signed(out, s.engagement);
  out += s.grade;
  put_varint(out, version);
}

bool history_json(std::string_view stored, std::string& out) {
  if (!stored.empty() && stored.front() == '{') { // written before the binary form
    out.append(stored);
    return true;
  }
  reader r{stored};
  if (r.byte() != history_version)
    return false;
  auto at = r.signed_int();
  auto cause = r.byte();
  auto detail = r.str();
  score s;
  s.total = r.signed_int();
  auto delta = r.signed_int();
  s.fit = r.signed_int();
  s.engagement = r.signed_int();
  s.grade = static_cast<char>(r.byte());
  auto version = static_cast<uint32_t>(r.varint());
  if (!r.ok || !r.in.empty() || cause > static_cast<uint8_t>(score_cause::created))
    return false;
  write_history_entry(out, at, static_cast<score_cause>(cause), detail, s, delta, version);
  return true;
}

} // namespace hotlead
