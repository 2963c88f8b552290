// Shared pieces of the JSON readers (json_in_*.cpp): the per-thread simdjson
// parser, problem builders and the checked text-field reader. Internal to
// protocol/; thread-safe (the parser is thread_local).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"
#include "protocol/limits.hpp"

namespace hotlead::json_detail {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

/// This thread's parser (reused: its buffers grow once).
simdjson::dom::parser& thread_parser();

problem bad(errc code, std::string detail);
problem wrong_type(std::string_view name, std::string_view expected);

/// Parses a whole body; malformed_json with simdjson's reason on failure.
std::optional<problem> parse_doc(std::string_view body, element& doc);
std::optional<problem> as_object(element doc, object& obj, std::string_view what);

/// parse_doc + as_object: the body must be one JSON object (`what` names it
/// in the message, e.g. "a lead"). `obj` lives until this thread parses again.
std::optional<problem> parse_object(std::string_view body, object& obj, std::string_view what);
bool has_control_chars(std::string_view s);

/// Points as hundredths (a rule's points, a threshold): a finite number
/// within +-1,000,000 with at most two decimals; otherwise what is wrong
/// with it ("must be ..."), and `out` unchanged.
std::string_view points_error(element v, int64_t& out);

/// points_error() found nothing wrong.
inline bool points_value(element v, int64_t& out) {
  return points_error(v, out).empty();
}

/// A single-line text field: a string of at most `max_len` characters
/// without control characters, or null when `nullable`.
std::optional<problem> text_value(std::string_view name, element v, size_t max_len,
                                  bool nullable, field<std::string>& out);

/// One event object (json_in_event.cpp); with `lead_id`, "lead_id" is a
/// required field (batches).
std::optional<problem> parse_event_object(object obj, const limits& lim, millis now,
                                          event_input& out, uint64_t* lead_id);

/// One field of a lead body (json_in_lead.cpp).
std::optional<problem> parse_lead_field(std::string_view key, element v, bool is_patch,
                                        const limits& lim, lead_patch& out);

} // namespace hotlead::json_detail
