// JSON request bodies → validated domain input, with simdjson's DOM parser
// (one parser per thread, reused). Every function returns nullopt on success
// or a problem whose detail names the field and says what is expected.
// Unknown fields are rejected (errc::unknown_field): a misspelt field is a
// mistake the caller wants to hear about, not something to drop silently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"
#include "protocol/lead.hpp"
#include "protocol/limits.hpp"
#include "protocol/org.hpp"

namespace hotlead {

/// Create (is_patch=false) or patch body of a lead.
std::optional<problem> parse_lead(std::string_view body, bool is_patch, const limits& lim,
                                  lead_patch& out);

/// Body of POST /v1/score: {"lead": {lead fields}, "events": [{type, ts?,
/// properties?}]} (both optional), validated like a lead create and events.
std::optional<problem> parse_score_request(std::string_view body, const limits& lim, millis now,
                                           lead_patch& lead, std::vector<event_input>& events);

/// Body of POST /v1/leads/{id}/events.
std::optional<problem> parse_event(std::string_view body, const limits& lim, millis now,
                                   event_input& out);

/// A stored event record (json_out's event_record), read back to replay it:
/// the same fields, without the limits of the request that wrote it.
std::optional<problem> parse_event_record(std::string_view record, event_input& out);

/// One property of an event's properties object (string, number or bool),
/// for engagement rules with a filter; nullopt when absent or of another
/// type. Uses a parser of its own, so it may run while another parse's
/// result is in use.
std::optional<attr_value> event_property(std::string_view properties_json,
                                         std::string_view name);

struct batch_item {
  size_t index = 0; // 0-based position in the array / line number - 1
  uint64_t lead_id = 0;
  event_input event;
  std::optional<problem> error;
};

/// Body of POST /v1/events:batch: a JSON array, or NDJSON when `ndjson`.
/// A body that is not an array at all is a problem; a bad item is reported
/// in its batch_item and the others go on.
std::optional<problem> parse_event_batch(std::string_view body, bool ndjson, const limits& lim,
                                         millis now, std::vector<batch_item>& out);

/// Body of POST /v1/orgs.
std::optional<problem> parse_org(std::string_view body, org& out);

/// Body of POST /v1/orgs/{org}/keys: role and optional name.
std::optional<problem> parse_key_request(std::string_view body, role& r, std::string& name);

/// Body of POST /v1/models/{v}:activate, optional: {"split": {"version": w,
/// "percent": 1..99}} (an A/B split; absent or null: none).
std::optional<problem> parse_model_activation(std::string_view body, uint32_t& split_version,
                                              uint32_t& split_percent);

/// Body of POST /admin/snapshot: optional name.
std::optional<problem> parse_snapshot_request(std::string_view body, std::string& name);

/// Lower-case, trimmed e-mail when it has a plausible shape.
std::optional<std::string> normalize_email(std::string_view text);

/// A client message of a WebSocket subscription (GET /v1/stream):
/// {"op": "subscribe"|"unsubscribe", "topic": "leads"|"lead:<id>"|
///  "threshold"|"jobs", "score": points and "hysteresis": points (threshold
///  only), "resume_from": seq (subscribe only)}.
struct stream_op {
  enum topic_t : uint8_t { leads, one_lead, threshold, jobs };
  bool subscribe = true;
  topic_t kind = leads;
  std::string topic;
  uint64_t lead = 0;         // the id of a "lead:<id>" topic
  threshold_rule rule;       // a "threshold" topic's (hysteresis 5 points unless given)
  std::optional<uint64_t> resume_from;
};
std::optional<problem> parse_stream_op(std::string_view text, stream_op& out);

/// POST /v1/stream/tokens: {"ttl_seconds": 10..3600} (optional).
std::optional<problem> parse_token_request(std::string_view body, uint32_t& ttl_seconds);

} // namespace hotlead
