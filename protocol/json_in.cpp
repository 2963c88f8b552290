// Tenancy and operations bodies: organizations, API key requests and
// snapshot requests. Leads and events are in json_in_lead.cpp and
// json_in_event.cpp; shared helpers in json_parse.hpp.
#include "protocol/json_in.hpp"

#include <algorithm>
#include <cctype>

#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

std::optional<problem> parse_org(std::string_view body, org& out) {
  object obj;
  if (auto p = parse_object(body, obj, "an organization"))
    return p;
  field<std::string> name, industry, plan;
  for (auto [key, value] : obj) {
    std::optional<problem> p;
    if (key == "name")
      p = text_value(key, value, 200, false, name);
    else if (key == "industry")
      p = text_value(key, value, 100, false, industry);
    else if (key == "plan")
      p = text_value(key, value, 32, false, plan);
    else
      p = bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                     "'; organization fields are name, industry, plan");
    if (p)
      return p;
  }
  if (!name.has_value() || name.value.empty())
    return bad(errc::missing_field, "field 'name' is required");
  if (plan.has_value() && plan.value != "free" && plan.value != "pro" &&
      plan.value != "enterprise")
    return bad(errc::invalid_field, "field 'plan' must be one of free, pro, enterprise");
  out.name = name.value;
  out.industry = industry.value;
  out.plan = plan.has_value() ? plan.value : "free";
  return std::nullopt;
}

std::optional<problem> parse_key_request(std::string_view body, role& r, std::string& name) {
  object obj;
  if (auto p = parse_object(body, obj, "a key request"))
    return p;
  bool has_role = false;
  for (auto [key, value] : obj) {
    if (key == "role") {
      std::string_view s;
      std::optional<role> parsed;
      if (value.get_string().get(s) || !(parsed = parse_role(s)))
        return bad(errc::invalid_field,
                   "field 'role' must be one of admin, manager, sales_rep, analyst, viewer");
      r = *parsed;
      has_role = true;
    } else if (key == "name") {
      field<std::string> f;
      if (auto p = text_value(key, value, 100, false, f))
        return p;
      name = f.value;
    } else {
      return bad(errc::unknown_field,
                 "unknown field '" + std::string{key} + "'; key fields are role, name");
    }
  }
  if (!has_role)
    return bad(errc::missing_field, "field 'role' is required");
  return std::nullopt;
}

std::optional<problem> parse_model_activation(std::string_view body, uint32_t& split_version,
                                              uint32_t& split_percent) {
  split_version = split_percent = 0;
  if (body.find_first_not_of(" \t\r\n") == body.npos)
    return std::nullopt;
  object obj;
  if (auto p = parse_object(body, obj, "an activation"))
    return p;
  for (auto [key, value] : obj) {
    if (key != "split")
      return bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                        "'; an activation has only split");
    if (value.is_null())
      continue;
    object split;
    if (value.get_object().get(split))
      return wrong_type("split", "an object {\"version\", \"percent\"} or null");
    bool has_version = false, has_percent = false;
    for (auto [k, v] : split) {
      uint64_t n = 0;
      if (k == "version") {
        if (v.get_uint64().get(n) || n == 0 || n > UINT32_MAX)
          return wrong_type("split.version", "a model version (1, 2, ...)");
        split_version = static_cast<uint32_t>(n);
        has_version = true;
      } else if (k == "percent") {
        if (v.get_uint64().get(n) || n < 1 || n > 99)
          return wrong_type("split.percent", "a whole number from 1 to 99 (the share of "
                                             "leads on the split version)");
        split_percent = static_cast<uint32_t>(n);
        has_percent = true;
      } else {
        return bad(errc::unknown_field, "unknown field 'split." + std::string{k} +
                                          "'; a split has version and percent");
      }
    }
    if (!has_version || !has_percent)
      return bad(errc::missing_field, "a split needs both version and percent");
  }
  return std::nullopt;
}

std::optional<problem> parse_snapshot_request(std::string_view body, std::string& name) {
  if (body.empty())
    return std::nullopt;
  object obj;
  if (auto p = parse_object(body, obj, "a snapshot request"))
    return p;
  for (auto [key, value] : obj) {
    std::string_view s;
    if (key != "name")
      return bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                        "'; snapshot fields are name");
    if (value.get_string().get(s) || s.empty() || s.size() > 64 ||
        !std::all_of(s.begin(), s.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        }))
      return wrong_type("name", "1-64 letters, digits, '-' or '_'");
    name = std::string{s};
  }
  return std::nullopt;
}

} // namespace hotlead
