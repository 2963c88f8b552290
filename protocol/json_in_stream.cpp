// Client messages of a WebSocket subscription (GET /v1/stream).
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

constexpr std::string_view known_topics =
  "\"leads\", \"lead:<lead id>\", \"threshold\" (with \"score\"), \"jobs\"";

} // namespace

std::optional<problem> parse_stream_op(std::string_view text, stream_op& out) {
  object obj;
  if (auto p = parse_object(text, obj, "a stream message"))
    return p;
  out = {};
  out.rule.hysteresis = 500;
  bool has_op = false, has_score = false, has_hysteresis = false;
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
        return wrong_type("topic", "a string: " + std::string{known_topics});
      out.topic = s;
    } else if (key == "resume_from") {
      uint64_t n = 0;
      if (v.get_uint64().get(n))
        return wrong_type("resume_from", "the seq of the last message received (an integer >= 0)");
      out.resume_from = n;
    } else if (key == "score") {
      if (!points_value(v, out.rule.score))
        return wrong_type("score", "the threshold in points (a number)");
      has_score = true;
    } else if (key == "hysteresis") {
      if (!points_value(v, out.rule.hysteresis) || out.rule.hysteresis < 0)
        return wrong_type("hysteresis", "points (a number >= 0) a hot lead must fall below the "
                                        "threshold before it cools");
      has_hysteresis = true;
    } else {
      return bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                        "' (known: op, topic, score, hysteresis, resume_from)");
    }
  }
  if (!has_op)
    return bad(errc::invalid_field, "field 'op' is required: \"subscribe\" or \"unsubscribe\"");
  if (out.topic == "threshold") {
    out.kind = stream_op::threshold;
    if (!has_score)
      return bad(errc::invalid_field, "topic 'threshold' needs 'score': the threshold in points, "
                                      "e.g. {\"op\":\"subscribe\",\"topic\":\"threshold\","
                                      "\"score\":80}");
    return std::nullopt;
  }
  if (has_score || has_hysteresis)
    return bad(errc::invalid_field, "'score' and 'hysteresis' belong to topic 'threshold'");
  if (out.topic == "leads") {
    out.kind = stream_op::leads;
    return std::nullopt;
  }
  if (out.topic == "jobs") {
    out.kind = stream_op::jobs;
    return std::nullopt;
  }
  if (out.topic.starts_with("lead:")) {
    auto id = parse_id(std::string_view{out.topic}.substr(5));
    if (!id)
      return bad(errc::invalid_field, "topic '" + out.topic.substr(0, 80) +
                                        "': the part after 'lead:' must be a lead id (16 hex digits)");
    out.kind = stream_op::one_lead;
    out.lead = *id;
    return std::nullopt;
  }
  if (out.topic.empty())
    return bad(errc::invalid_field, "field 'topic' is required: " + std::string{known_topics});
  return bad(errc::invalid_field, "unknown topic '" + out.topic.substr(0, 80) + "' (known: " +
                                    std::string{known_topics} + ")");
}

std::optional<problem> parse_token_request(std::string_view body, uint32_t& ttl_seconds) {
  object obj;
  if (auto p = parse_object(body, obj, "a token request"))
    return p;
  for (auto [key, v] : obj) {
    if (key != "ttl_seconds")
      return bad(errc::unknown_field,
                 "unknown field '" + std::string{key} + "' (known: ttl_seconds)");
    uint64_t n = 0;
    if (v.get_uint64().get(n) || n < 10 || n > 3600)
      return wrong_type("ttl_seconds", "how long the token is valid: 10 to 3600 seconds");
    ttl_seconds = static_cast<uint32_t>(n);
  }
  return std::nullopt;
}

} // namespace hotlead
