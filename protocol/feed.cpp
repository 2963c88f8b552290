#include "protocol/feed.hpp"

#include "protocol/bytes.hpp"

namespace hotlead {

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
  k.reserve(feed_op_key_size);
  k += static_cast<char>(type);
  put_be64(k, org);
  put_be64(k, lead);
  put_be64(k, static_cast<uint64_t>(total));
  put_be64(k, static_cast<uint64_t>(previous));
  return k;
}

bool decode_feed_op_key(std::string_view key, feed_message& m) {
  if (key.size() != feed_op_key_size)
    return false;
  auto t = static_cast<uint8_t>(key[0]);
  if (t < 1 || t > 3)
    return false;
  m.type = static_cast<feed_type>(t);
  m.org = get_be64(key.substr(1));
  m.lead = get_be64(key.substr(9));
  m.total = static_cast<int64_t>(get_be64(key.substr(17)));
  m.previous = static_cast<int64_t>(get_be64(key.substr(25)));
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

} // namespace hotlead
