// Lead bodies (create and patch): every field's type, length and shape,
// attributes and tags with their limits. See json_in.hpp.
#include "protocol/json_in.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/ascii.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

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
  out.attributes.reserve(out.attributes.size() + obj.size());
  for (auto [key, value] : obj) {
    // Named in errors only: built then, not for every attribute.
    auto name = [key] { return "attributes." + std::string{key}; };
    if (!valid_attr_key(key))
      return bad(errc::invalid_field,
                 "attribute key '" + std::string{key} +
                   "' must be 1-64 characters of letters, digits, '_', '-' or '.'");
    std::optional<attr_value> val;
    switch (value.type()) {
      case element_type::STRING: {
        std::string_view s = value.get_string().value_unsafe();
        if (s.size() > lim.max_attr_string)
          return bad(errc::invalid_field, "field '" + name() + "' is longer than " +
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
          return wrong_type(name(), "a finite number");
        val = d;
        break;
      }
      case element_type::BOOL:
        val = value.get_bool().value_unsafe();
        break;
      case element_type::NULL_VALUE:
        if (!is_patch)
          return wrong_type(name(), "a string, number or bool (null only removes it in PATCH)");
        break;
      default:
        return wrong_type(name(), "a string, number or bool");
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

} // namespace

std::optional<problem> json_detail::parse_lead_field(std::string_view key, element v,
                                                     bool is_patch, const limits& lim,
                                                     lead_patch& out) {
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
    c = ascii_lower(c);
  }
  return out;
}

std::optional<problem> parse_lead(std::string_view body, bool is_patch, const limits& lim,
                                  lead_patch& out) {
  object obj;
  if (auto p = parse_object(body, obj, "a lead"))
    return p;
  for (auto [key, value] : obj)
    if (auto p = parse_lead_field(key, value, is_patch, lim, out))
      return p;
  // No status: a new lead starts as new; an upsert of an existing lead
  // keeps its status (patch semantics, docs/API.md).
  return std::nullopt;
}


std::optional<problem> parse_score_request(std::string_view body, const limits& lim, millis now,
                                           lead_patch& lead, std::vector<event_input>& events) {
  object obj;
  if (auto p = parse_object(body, obj, "a score request: {\"lead\": {...}, \"events\": [...]}"))
    return p;
  for (auto [key, value] : obj) {
    if (key == "lead") {
      object lo;
      if (value.get(lo))
        return wrong_type("lead", "an object of lead fields and attributes");
      for (auto [k, v] : lo)
        if (auto p = parse_lead_field(k, v, false, lim, lead))
          return p;
    } else if (key == "events") {
      simdjson::dom::array arr;
      if (value.get(arr))
        return wrong_type("events", "an array of events {\"type\", \"ts\"?, \"properties\"?}");
      size_t i = 0;
      for (element ev : arr) {
        if (i >= lim.max_batch)
          return bad(errc::invalid_field, "field 'events' has more than " +
                                            std::to_string(lim.max_batch) +
                                            " events (limits.max_batch)");
        object eo;
        if (ev.get(eo))
          return wrong_type("events[" + std::to_string(i) + "]", "an event object");
        event_input e;
        if (auto p = parse_event_object(eo, lim, now, e, nullptr)) {
          p->detail = "events[" + std::to_string(i) + "]: " + p->detail;
          return p;
        }
        events.push_back(std::move(e));
        ++i;
      }
    } else {
      return bad(errc::unknown_field,
                 "unknown field '" + std::string{key} + "'; a score request has lead and events");
    }
  }
  if (!lead.status.present)
    lead.status.set(lead_status::new_);
  return std::nullopt;
}

} // namespace hotlead
