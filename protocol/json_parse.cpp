#include "protocol/json_parse.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/scoring_model.hpp" // max_abs_points

namespace hotlead::json_detail {

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

problem bad(errc code, std::string detail) {
  return {code, std::move(detail)};
}

problem wrong_type(std::string_view name, std::string_view expected) {
  return bad(errc::invalid_field,
             "field '" + std::string{name} + "' must be " + std::string{expected});
}

std::optional<problem> parse_doc(std::string_view body, element& doc) {
  if (body.empty())
    return bad(errc::malformed_json, "request body is empty; send a JSON object");
  auto err = thread_parser().parse(body.data(), body.size(), true).get(doc);
  if (err)
    return bad(errc::malformed_json,
               std::string{"request body is not valid JSON: "} + simdjson::error_message(err));
  return std::nullopt;
}

std::optional<problem> as_object(element doc, object& obj, std::string_view what) {
  if (doc.get_object().get(obj))
    return bad(errc::malformed_json, std::string{what} + " must be a JSON object");
  return std::nullopt;
}

std::optional<problem> parse_object(std::string_view body, object& obj, std::string_view what) {
  element doc;
  if (auto p = parse_doc(body, doc))
    return p;
  return as_object(doc, obj, what);
}

std::string_view points_error(element v, int64_t& out) {
  double x = 0;
  if (v.type() == element_type::INT64)
    x = static_cast<double>(v.get_int64().value());
  else if (v.type() == element_type::UINT64)
    x = static_cast<double>(v.get_uint64().value());
  else if (v.type() == element_type::DOUBLE)
    x = v.get_double().value();
  else
    return "must be a number of points";
  if (!std::isfinite(x) || std::fabs(x) > max_abs_points)
    return "must be between -1000000 and 1000000";
  double h = x * 100;
  if (std::fabs(h - std::round(h)) > 1e-6)
    return "may have at most two decimals (points are counted in hundredths)";
  out = std::llround(h);
  return {};
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// A single-line text field: string or null (null only when nullable).
std::optional<problem> text_value(std::string_view name, element v, size_t max_len, bool nullable,
                            field<std::string>& out) {
  if (v.is_null()) {
    if (!nullable)
      return wrong_type(name, "a string");
    out.clear();
    return std::nullopt;
  }
  std::string_view s;
  if (v.get_string().get(s))
    return wrong_type(name, nullable ? "a string or null" : "a string");
  if (s.size() > max_len)
    return bad(errc::invalid_field, "field '" + std::string{name} + "' is longer than " +
                                      std::to_string(max_len) + " characters");
  if (has_control_chars(s))
    return bad(errc::invalid_field,
               "field '" + std::string{name} + "' must not contain control characters");
  out.set(std::string{s});
  return std::nullopt;
}

} // namespace hotlead::json_detail
