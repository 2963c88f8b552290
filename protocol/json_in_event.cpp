// Activity bodies: one event, and batches as a JSON array or NDJSON with
// per-item errors. See json_in.hpp.
#include "protocol/json_in.hpp"

#include "protocol/ids.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

std::optional<problem> parse_ts(element v, millis now, millis& out) {
  constexpr millis earliest = 946684800000; // 2000-01-01
  if (v.type() == element_type::STRING) {
    auto t = parse_time(v.get_string().value_unsafe());
    if (!t)
      return bad(errc::invalid_field,
                 "field 'ts' must be an ISO 8601 time like 2026-11-22T10:00:00Z");
    out = *t;
  } else if (v.type() == element_type::INT64 || v.type() == element_type::UINT64) {
    int64_t ms = 0;
    if (v.get_int64().get(ms))
      return wrong_type("ts", "an ISO 8601 string or epoch milliseconds");
    out = ms;
  } else {
    return wrong_type("ts", "an ISO 8601 string or epoch milliseconds");
  }
  if (out < earliest || out > now + 86400000)
    return bad(errc::invalid_field,
               "field 'ts' must lie between 2000-01-01 and one day from now");
  return std::nullopt;
}

} // namespace

std::optional<problem> json_detail::parse_event_object(object obj, const limits& lim, millis now,
                                                       event_input& out, uint64_t* lead_id) {
  bool has_type = false, has_ts = false, has_lead = false;
  for (auto [key, value] : obj) {
    if (key == "type") {
      std::string_view s;
      if (value.get_string().get(s) || s.empty() || s.size() > 64 || has_control_chars(s))
        return wrong_type("type", "a non-empty string of at most 64 characters");
      out.type = std::string{s};
      has_type = true;
    } else if (key == "ts") {
      if (auto p = parse_ts(value, now, out.ts))
        return p;
      has_ts = true;
    } else if (key == "properties") {
      if (value.type() != element_type::OBJECT)
        return wrong_type("properties", "an object");
      out.properties_json = simdjson::minify(value);
      if (out.properties_json.size() > lim.max_properties)
        return bad(errc::invalid_field, "field 'properties' is larger than " +
                                          std::to_string(lim.max_properties) +
                                          " bytes (limits.max_properties)");
    } else if (key == "lead_id" && lead_id) {
      std::string_view s;
      std::optional<uint64_t> id;
      if (value.get_string().get(s) || !(id = parse_id(s)))
        return wrong_type("lead_id", "a lead id of 16 hex digits");
      *lead_id = *id;
      has_lead = true;
    } else {
      return bad(errc::unknown_field,
                 "unknown field '" + std::string{key} + "'; event fields are " +
                   (lead_id ? "lead_id, " : "") + "type, ts, properties");
    }
  }
  if (lead_id && !has_lead)
    return bad(errc::missing_field, "field 'lead_id' is required");
  if (!has_type)
    return bad(errc::missing_field, "field 'type' is required (e.g. \"page_view\")");
  if (!has_ts)
    out.ts = now;
  if (out.properties_json.empty())
    out.properties_json = "{}";
  return std::nullopt;
}

std::optional<problem> parse_event(std::string_view body, const limits& lim, millis now,
                                   event_input& out) {
  object obj;
  if (auto p = parse_object(body, obj, "an event"))
    return p;
  return parse_event_object(obj, lim, now, out, nullptr);
}

std::optional<problem> parse_event_record(std::string_view record, event_input& out) {
  limits any;
  any.max_properties = SIZE_MAX;
  constexpr millis far_future = INT64_MAX / 4;
  return parse_event(record, any, far_future, out);
}

std::optional<problem> parse_event_batch(std::string_view body, bool ndjson, const limits& lim,
                                         millis now, std::vector<batch_item>& out) {
  auto add_item = [&](element e, size_t index) {
    batch_item item;
    item.index = index;
    object obj;
    if (e.get_object().get(obj))
      item.error = bad(errc::invalid_field, "each item must be a JSON object");
    else
      item.error = parse_event_object(obj, lim, now, item.event, &item.lead_id);
    out.push_back(std::move(item));
  };
  if (!ndjson) {
    element doc;
    if (auto p = parse_doc(body, doc))
      return p;
    simdjson::dom::array arr;
    if (doc.get_array().get(arr))
      return bad(errc::malformed_json,
                 "events:batch takes a JSON array of events, or NDJSON with "
                 "Content-Type: application/x-ndjson");
    if (arr.size() > lim.max_batch)
      return bad(errc::invalid_request, "a batch holds at most " +
                                          std::to_string(lim.max_batch) +
                                          " events (limits.max_batch)");
    if (arr.size() == 0)
      return bad(errc::invalid_request, "the batch is empty");
    size_t i = 0;
    for (auto e : arr)
      add_item(e, i++);
    return std::nullopt;
  }
  size_t index = 0, pos = 0;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    auto line = body.substr(pos, nl == body.npos ? body.npos : nl - pos);
    pos = nl == body.npos ? body.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.remove_suffix(1);
    if (line.empty())
      continue;
    if (out.size() >= lim.max_batch)
      return bad(errc::invalid_request, "a batch holds at most " +
                                          std::to_string(lim.max_batch) +
                                          " events (limits.max_batch)");
    element e;
    if (thread_parser().parse(line.data(), line.size(), true).get(e)) {
      batch_item item;
      item.index = index++;
      item.error = bad(errc::malformed_json, "line is not valid JSON");
      out.push_back(std::move(item));
      continue;
    }
    add_item(e, index++);
  }
  if (out.empty())
    return bad(errc::invalid_request, "the batch is empty");
  return std::nullopt;
}

std::optional<attr_value> event_property(std::string_view properties_json,
                                         std::string_view name) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (properties_json.size() <= 2 ||
      parser.parse(properties_json.data(), properties_json.size(), true).get(obj))
    return std::nullopt;
  simdjson::dom::element v;
  if (obj.at_key(name).get(v))
    return std::nullopt;
  switch (v.type()) {
    case simdjson::dom::element_type::STRING: return attr_value{std::string{v.get_string().value()}};
    case simdjson::dom::element_type::BOOL: return attr_value{v.get_bool().value()};
    case simdjson::dom::element_type::INT64: return attr_value{double(v.get_int64().value())};
    case simdjson::dom::element_type::UINT64: return attr_value{double(v.get_uint64().value())};
    case simdjson::dom::element_type::DOUBLE: return attr_value{v.get_double().value()};
    default: return std::nullopt;
  }
}

} // namespace hotlead
