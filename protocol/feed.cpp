#include "protocol/feed.hpp"

#include <charconv>

namespace hotlead {

namespace {

void put64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

uint64_t get64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

constexpr size_t op_key_size = 1 + 8 * 4;

} // namespace

std::string_view feed_type_name(feed_type t) {
  switch (t) {
    case feed_type::lead_created: return "lead.created";
    case feed_type::lead_updated: return "lead.updated";
    case feed_type::lead_deleted: return "lead.deleted";
  }
  return "lead.updated";
}

std::string feed_op_key(uint64_t org, uint64_t lead, feed_type type, int64_t total,
                        int64_t previous) {
  std::string k;
  k.reserve(op_key_size);
  k += static_cast<char>(type);
  put64(k, org);
  put64(k, lead);
  put64(k, static_cast<uint64_t>(total));
  put64(k, static_cast<uint64_t>(previous));
  return k;
}

bool decode_feed_op_key(std::string_view key, feed_message& m) {
  if (key.size() != op_key_size)
    return false;
  auto t = static_cast<uint8_t>(key[0]);
  if (t < 1 || t > 3)
    return false;
  m.type = static_cast<feed_type>(t);
  m.org = get64(key.substr(1));
  m.lead = get64(key.substr(9));
  m.total = static_cast<int64_t>(get64(key.substr(17)));
  m.previous = static_cast<int64_t>(get64(key.substr(25)));
  return true;
}

std::string feed_json(uint64_t seq, std::string_view members) {
  std::string out;
  out.reserve(members.size() + 32);
  out += "{\"seq\":";
  out += std::to_string(seq);
  out += ',';
  out += members;
  out += '}';
  return out;
}

uint64_t feed_json_seq(std::string_view json) {
  constexpr std::string_view head = "{\"seq\":";
  if (!json.starts_with(head))
    return 0;
  uint64_t v = 0;
  auto s = json.substr(head.size());
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

} // namespace hotlead
