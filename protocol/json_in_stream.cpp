// Client messages of a WebSocket subscription (GET /v1/stream).
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

std::optional<problem> parse_stream_op(std::string_view text, stream_op& out) {
  object obj;
  if (auto p = parse_object(text, obj, "a stream message"))
    return p;
  out = {};
  bool has_op = false;
  for (auto [key, v] : obj) {
    if (key == "op") {
      std::string_view s;
      if (v.get_string().get(s) || (s != "subscribe" && s != "unsubscribe"))
        return wrong_type("op", "\"subscribe\" or \"unsubscribe\"");
      out.subscribe = s == "subscribe";
      has_op = true;
    } else if (key == "topic") {
      std::string_view s;
      if (v.get_string().get(s))
        return wrong_type("topic", "a string: \"leads\" or \"lead:<lead id>\"");
      out.topic = s;
    } else if (key == "resume_from") {
      uint64_t n = 0;
      if (v.get_uint64().get(n))
        return wrong_type("resume_from", "the seq of the last message received (an integer >= 0)");
      out.resume_from = n;
    } else {
      return bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                        "' (known: op, topic, resume_from)");
    }
  }
  if (!has_op)
    return bad(errc::invalid_field, "field 'op' is required: \"subscribe\" or \"unsubscribe\"");
  if (out.topic == "leads")
    return std::nullopt;
  if (out.topic.starts_with("lead:")) {
    auto id = parse_id(std::string_view{out.topic}.substr(5));
    if (!id)
      return bad(errc::invalid_field, "topic '" + out.topic.substr(0, 80) +
                                        "': the part after 'lead:' must be a lead id (16 hex digits)");
    out.lead = *id;
    return std::nullopt;
  }
  if (out.topic.empty())
    return bad(errc::invalid_field, "field 'topic' is required: \"leads\" or \"lead:<lead id>\"");
  return bad(errc::invalid_field, "unknown topic '" + out.topic.substr(0, 80) +
                                    "' (known: \"leads\", \"lead:<lead id>\")");
}

} // namespace hotlead
