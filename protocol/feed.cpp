#include "protocol/feed.hpp"

#include "protocol/bytes.hpp"
#include "protocol/scoring_model.hpp"

namespace hotlead {

std::string_view feed_type_name(feed_type t) {
  switch (t) {
    case feed_type::lead_created: return "lead.created";
    case feed_type::lead_updated: return "lead.updated";
    case feed_type::lead_deleted: return "lead.deleted";
    case feed_type::job_progress: return "job.progress";
    case feed_type::lead_scored: return "lead.scored";
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
  if (t < 1 || t > 5)
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

std::string threshold_json(const feed_message& m, const threshold_rule& r, crossing c) {
  // The message is {"seq":N,"type":"<type>",<rest>}: the alert keeps seq
  // and rest and says what crossed where in between.
  const std::string& j = *m.json;
  constexpr std::string_view type_key = "\"type\":\"";
  auto t = j.find(type_key);
  auto type_end = t == std::string::npos ? t : j.find('"', t + type_key.size());
  if (type_end == std::string::npos)
    return j; // not a message of ours
  std::string out;
  out.reserve(j.size() + 100);
  out.append(j, 0, t);
  out += "\"type\":\"lead.threshold_crossed\",\"direction\":\"";
  out += c == crossing::up ? "up" : "down";
  out += "\",\"threshold\":";
  out += format_points(r.score);
  out += ",\"hysteresis\":";
  out += format_points(r.hysteresis);
  out += ",\"change\":\"";
  out += feed_type_name(m.type);
  out += '"';
  out.append(j, type_end + 1); // ,"lead_id":... up to the closing brace
  return out;
}

} // namespace hotlead
