#include "protocol/json_in.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "protocol/ids.hpp"

namespace hotlead {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

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

bool valid_attr_key(std::string_view k) {
  if (k.empty() || k.size() > 64)
    return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

bool valid_phone(std::string_view p) {
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == ' ' || c == '(' ||
           c == ')' || c == '.' || c == 'x';
  });
}

std::optional<problem> parse_attributes(element v, const limits& lim, bool is_patch,
                                        lead_patch& out) {
  object obj;
  if (v.get_object().get(obj))
    return wrong_type("attributes", "an object of string, number or bool values");
  for (auto [key, value] : obj) {
    std::string name = "attributes." + std::string{key};
    if (!valid_attr_key(key))
      return bad(errc::invalid_field,
                 "attribute key '" + std::string{key} +
                   "' must be 1-64 characters of letters, digits, '_', '-' or '.'");
    std::optional<attr_value> val;
    switch (value.type()) {
      case element_type::STRING: {
        std::string_view s = value.get_string().value_unsafe();
        if (s.size() > lim.max_attr_string)
          return bad(errc::invalid_field, "field '" + name + "' is longer than " +
                                            std::to_string(lim.max_attr_string) +
                                            " characters");
        val = std::string{s};
        break;
      }
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: {
        double d = 0;
        if (value.get_double().get(d) || !std::isfinite(d))
          return wrong_type(name, "a finite number");
        val = d;
        break;
      }
      case element_type::BOOL:
        val = value.get_bool().value_unsafe();
        break;
      case element_type::NULL_VALUE:
        if (!is_patch)
          return wrong_type(name, "a string, number or bool (null only removes it in PATCH)");
        break;
      default:
        return wrong_type(name, "a string, number or bool");
    }
    auto same = [&](auto& a) { return a.first == key; };
    if (std::any_of(out.attributes.begin(), out.attributes.end(), same))
      return bad(errc::invalid_field, "attribute '" + std::string{key} + "' appears twice");
    out.attributes.emplace_back(std::string{key}, std::move(val));
  }
  size_t adds = std::count_if(out.attributes.begin(), out.attributes.end(),
                              [](auto& a) { return a.second.has_value(); });
  if (adds > lim.max_attributes)
    return bad(errc::invalid_field, "a lead has at most " + std::to_string(lim.max_attributes) +
                                      " attributes (limits.max_attributes)");
  return std::nullopt;
}

std::optional<problem> parse_tags(element v, const limits& lim, lead_patch& out) {
  if (v.is_null()) {
    out.tags.clear();
    return std::nullopt;
  }
  simdjson::dom::array arr;
  if (v.get_array().get(arr))
    return wrong_type("tags", "an array of strings");
  std::vector<std::string> tags;
  for (auto t : arr) {
    std::string_view s;
    if (t.get_string().get(s) || s.empty() || s.size() > 64 || has_control_chars(s))
      return wrong_type("tags", "an array of non-empty strings of at most 64 characters");
    tags.emplace_back(s);
  }
  if (tags.size() > lim.max_tags)
    return bad(errc::invalid_field, "a lead has at most " + std::to_string(lim.max_tags) +
                                      " tags (limits.max_tags)");
  out.tags.set(std::move(tags));
  return std::nullopt;
}

std::optional<problem> parse_lead_field(std::string_view key, element v, bool is_patch,
                                        const limits& lim, lead_patch& out) {
  const size_t t = lim.max_text;
  if (key == "email") {
    if (auto p = text_value(key, v, 254, true, out.email))
      return p;
    if (out.email.has_value()) {
      auto e = normalize_email(out.email.value);
      if (!e)
        return bad(errc::invalid_field,
                   "field 'email' must look like name@example.com (got '" + out.email.value +
                     "')");
      out.email.value = *e;
    }
    return std::nullopt;
  }
  if (key == "external_id") {
    if (auto p = text_value(key, v, 128, true, out.external_id))
      return p;
    if (out.external_id.has_value() && out.external_id.value.empty())
      return bad(errc::invalid_field, "field 'external_id' must not be empty (use null)");
    return std::nullopt;
  }
  if (key == "first_name")
    return text_value(key, v, t, true, out.first_name);
  if (key == "last_name")
    return text_value(key, v, t, true, out.last_name);
  if (key == "company")
    return text_value(key, v, t, true, out.company);
  if (key == "title")
    return text_value(key, v, t, true, out.title);
  if (key == "owner")
    return text_value(key, v, t, true, out.owner);
  if (key == "source")
    return text_value(key, v, 64, true, out.source);
  if (key == "phone") {
    if (auto p = text_value(key, v, 32, true, out.phone))
      return p;
    if (out.phone.has_value() && !valid_phone(out.phone.value))
      return bad(errc::invalid_field,
                 "field 'phone' may hold only digits, spaces and + - ( ) . x");
    return std::nullopt;
  }
  if (key == "status") {
    std::string_view s;
    if (v.get_string().get(s))
      return wrong_type(key, "a string");
    auto st = parse_status(s);
    if (!st)
      return bad(errc::invalid_field,
                 "field 'status' must be one of new, contacted, qualified, unqualified, "
                 "converted, lost (got '" +
                   std::string{s} + "')");
    out.status.set(*st);
    return std::nullopt;
  }
  if (key == "tags")
    return parse_tags(v, lim, out);
  if (key == "attributes")
    return parse_attributes(v, lim, is_patch, out);
  return bad(errc::unknown_field,
             "unknown field '" + std::string{key} +
               "'; lead fields are email, external_id, first_name, last_name, company, "
               "title, phone, source, status, owner, tags, attributes");
}

// ts: ISO 8601 string or epoch milliseconds; within [2000-01-01, now + 1 day].
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

std::optional<problem> parse_event_object(object obj, const limits& lim, millis now,
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

} // namespace

std::optional<std::string> normalize_email(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  if (s.size() < 3 || s.size() > 254)
    return std::nullopt;
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || s.find('@', at + 1) != s.npos)
    return std::nullopt;
  auto domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 ||
      dot + 1 >= domain.size() || domain.front() == '-' || domain.find("..") != s.npos)
    return std::nullopt;
  std::string out{s};
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == ',' || c == ';' || c == '<' || c == '>' || c == '(' ||
        c == ')' || c == '\\' || c == '[' || c == ']')
      return std::nullopt;
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<problem> parse_lead(std::string_view body, bool is_patch, const limits& lim,
                                  lead_patch& out) {
  element doc;
  object obj;
  if (auto p = parse_doc(body, doc))
    return p;
  if (auto p = as_object(doc, obj, "a lead"))
    return p;
  for (auto [key, value] : obj)
    if (auto p = parse_lead_field(key, value, is_patch, lim, out))
      return p;
  if (!is_patch && out.status.present == false)
    out.status.set(lead_status::new_);
  return std::nullopt;
}

std::optional<problem> parse_event(std::string_view body, const limits& lim, millis now,
                                   event_input& out) {
  element doc;
  object obj;
  if (auto p = parse_doc(body, doc))
    return p;
  if (auto p = as_object(doc, obj, "an event"))
    return p;
  return parse_event_object(obj, lim, now, out, nullptr);
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

std::optional<problem> parse_org(std::string_view body, org& out) {
  element doc;
  object obj;
  if (auto p = parse_doc(body, doc))
    return p;
  if (auto p = as_object(doc, obj, "an organization"))
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
  element doc;
  object obj;
  if (auto p = parse_doc(body, doc))
    return p;
  if (auto p = as_object(doc, obj, "a key request"))
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

std::optional<problem> parse_snapshot_request(std::string_view body, std::string& name) {
  if (body.empty())
    return std::nullopt;
  element doc;
  object obj;
  if (auto p = parse_doc(body, doc))
    return p;
  if (auto p = as_object(doc, obj, "a snapshot request"))
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
