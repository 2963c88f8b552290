#include "protocol/scoring_model.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

#include "protocol/ascii.hpp"
#include "protocol/intern.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

constexpr millis day_ms = 86'400'000;

/// Where a problem is: "fit[2] (\"title-exec\")" and a field.
struct at {
  std::string rule; // empty for the top level
  problem fail(std::string_view field, std::string_view what) const {
    std::string d = rule.empty() ? std::string{} : rule + ": ";
    d += "\"";
    d += field;
    d += "\" ";
    d += what;
    return {errc::invalid_model, std::move(d)};
  }
};

std::optional<problem> points_of(const at& where, std::string_view name, element v,
                                 centipoints& out) {
  if (auto why = points_error(v, out); !why.empty())
    return where.fail(name, why);
  return std::nullopt;
}

std::optional<problem> days_of(const at& where, std::string_view name, element v, millis& out) {
  if (!v.is_number())
    return where.fail(name, "must be a number of days");
  double d = v.get_double().value();
  if (!std::isfinite(d) || d <= 0 || d > 3650)
    return where.fail(name, "must be more than 0 and at most 3650 days");
  out = static_cast<millis>(std::llround(d * static_cast<double>(day_ms)));
  if (out < 1000)
    return where.fail(name, "must be at least one second");
  return std::nullopt;
}

std::optional<problem> id_of(const at& where, element v, std::string& out) {
  if (!v.is_string())
    return where.fail("id", "must be a string");
  std::string_view s = v.get_string().value();
  if (s.empty() || s.size() > 64)
    return where.fail("id", "must be 1 to 64 characters");
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return where.fail("id", "may contain letters, digits, '-', '_' and '.' only");
  out = s;
  return std::nullopt;
}

std::optional<problem> scalar_of(const at& where, std::string_view name, element v,
                                 attr_value& out) {
  switch (v.type()) {
    case element_type::STRING: out = std::string{v.get_string().value()}; return std::nullopt;
    case element_type::BOOL: out = v.get_bool().value(); return std::nullopt;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: out = v.get_double().value(); return std::nullopt;
    default: return where.fail(name, "must be a string, a number or a boolean");
  }
}

/// Reads "op" and its operands from `obj` into `p`.
std::optional<problem> predicate_of(const at& where, object obj, predicate& p) {
  element opv;
  if (obj["op"].get(opv) || !opv.is_string())
    return where.fail("op", "is required: one of equals, in, contains, prefix, range, exists, "
                            "or one of those with not_ before it");
  std::string_view op = opv.get_string().value();
  if (op.substr(0, 4) == "not_") {
    p.negate = true;
    op.remove_prefix(4);
  }
  static constexpr std::array<std::pair<std::string_view, rule_op>, 6> ops{{
    {"equals", rule_op::equals},
    {"in", rule_op::in},
    {"contains", rule_op::contains},
    {"prefix", rule_op::prefix},
    {"range", rule_op::range},
    {"exists", rule_op::exists},
  }};
  bool known = false;
  for (auto& [name, value] : ops)
    if (name == op) {
      p.op = value;
      known = true;
    }
  if (!known)
    return where.fail("op", "must be one of equals, in, contains, prefix, range, exists, or "
                            "one of those with not_ before it");
  element v;
  switch (p.op) {
    case rule_op::equals: {
      if (obj["value"].get(v))
        return where.fail("value", "is required with op equals");
      attr_value a;
      if (auto e = scalar_of(where, "value", v, a))
        return e;
      p.values.push_back(std::move(a));
      break;
    }
    case rule_op::in: {
      simdjson::dom::array arr;
      if (obj["values"].get(arr))
        return where.fail("values", "is required with op in: an array of values");
      if (arr.size() == 0 || arr.size() > max_rule_values)
        return where.fail("values", "must hold 1 to 100 values");
      for (element x : arr) {
        attr_value a;
        if (auto e = scalar_of(where, "values", x, a))
          return e;
        p.values.push_back(std::move(a));
      }
      break;
    }
    case rule_op::contains:
    case rule_op::prefix: {
      if (obj["value"].get(v) || !v.is_string() || v.get_string().value().empty())
        return where.fail("value", "is required with op contains or prefix: a non-empty string");
      p.strings.push_back(ascii_lower(v.get_string().value()));
      break;
    }
    case rule_op::range: {
      for (auto [key, slot] : {std::pair{"min", &p.min}, std::pair{"max", &p.max}}) {
        if (obj[key].get(v))
          continue;
        if (!v.is_number())
          return where.fail(key, "must be a number");
        *slot = v.get_double().value();
      }
      if (!p.min && !p.max)
        return where.fail("min", "or \"max\" is required with op range");
      if (p.min && p.max && *p.min > *p.max)
        return where.fail("min", "must not be more than \"max\"");
      break;
    }
    case rule_op::exists: break;
  }
  return std::nullopt;
}

/// Fails on a key of `obj` that is not in `known`.
std::optional<problem> only(const at& where, object obj,
                            std::initializer_list<std::string_view> known) {
  for (auto [key, value] : obj) {
    bool ok = false;
    for (auto k : known)
      ok = ok || k == key;
    if (!ok)
      return where.fail(key, "is not a field of this part of the model (misspelt?)");
  }
  return std::nullopt;
}

std::optional<problem> target_of(const at& where, std::string_view field, fit_rule& r) {
  for (size_t i = 0; i < text_count; ++i)
    if (text_names[i] == field) {
      r.target = rule_target::text;
      r.field = static_cast<text>(i);
      return std::nullopt;
    }
  if (field == "source")
    r.target = rule_target::source;
  else if (field == "status")
    r.target = rule_target::status;
  else if (field == "tags")
    r.target = rule_target::tags;
  else if (field.substr(0, 11) == "attributes." && field.size() > 11 && field.size() <= 75) {
    r.target = rule_target::attribute;
    r.attribute = field.substr(11);
  } else
    return where.fail("field", "must be a lead field (email, first_name, last_name, company, "
                               "title, phone, owner, external_id, source, status, tags) or "
                               "attributes.<name>");
  return std::nullopt;
}

std::optional<problem> rule_id_of(const at& where, object obj, std::string& id) {
  element v;
  if (obj["id"].get(v))
    return where.fail("id", "is required: a name for the rule, shown in the score's factors");
  return id_of(where, v, id);
}

std::optional<problem> fit_rule_of(const at& where, object obj, fit_rule& r) {
  if (auto e = only(where, obj, {"id", "field", "op", "value", "values", "min", "max", "points"}))
    return e;
  if (auto e = rule_id_of(where, obj, r.id))
    return e;
  element v;
  if (obj["field"].get(v) || !v.is_string())
    return where.fail("field", "is required: the lead field or attributes.<name> to test");
  if (auto e = target_of(where, v.get_string().value(), r))
    return e;
  if (auto e = predicate_of(where, obj, r.when))
    return e;
  if ((r.when.op == rule_op::range) && r.target != rule_target::attribute)
    return where.fail("op", "range applies to numeric attributes only (attributes.<name>)");
  if (obj["points"].get(v))
    return where.fail("points", "is required");
  return points_of(where, "points", v, r.points);
}

std::optional<problem> engagement_rule_of(const at& where, object obj, engagement_rule& r) {
  if (auto e = only(where, obj, {"id", "event", "where", "points", "half_life_days", "cap"}))
    return e;
  if (auto e = rule_id_of(where, obj, r.id))
    return e;
  element v;
  if (obj["event"].get(v) || !v.is_string() || v.get_string().value().empty() ||
      v.get_string().value().size() > 64)
    return where.fail("event", "is required: the event type this rule counts (1 to 64 characters)");
  r.event = v.get_string().value();
  if (obj["points"].get(v))
    return where.fail("points", "is required");
  if (auto e = points_of(where, "points", v, r.points))
    return e;
  if (!obj["half_life_days"].get(v))
    if (auto e = days_of(where, "half_life_days", v, r.half_life))
      return e;
  if (!obj["where"].get(v)) {
    object w;
    if (v.get(w))
      return where.fail("where", "must be an object: {\"property\", \"op\", ...}");
    at inner{where.rule + " where"};
    if (auto e = only(inner, w, {"property", "op", "value", "values", "min", "max"}))
      return e;
    element pv;
    if (w["property"].get(pv) || !pv.is_string() || pv.get_string().value().empty())
      return inner.fail("property", "is required: the event property to test");
    r.where = std::string{pv.get_string().value()};
    r.where_is.emplace();
    if (auto e = predicate_of(inner, w, *r.where_is))
      return e;
  }
  if (!obj["cap"].get(v)) {
    object c;
    if (v.get(c))
      return where.fail("cap", "must be an object: {\"points\", \"window_days\"}");
    at inner{where.rule + " cap"};
    if (auto e = only(inner, c, {"points", "window_days"}))
      return e;
    element x;
    if (c["points"].get(x))
      return inner.fail("points", "is required: the most points per window");
    if (auto e = points_of(inner, "points", x, r.cap))
      return e;
    if (r.cap <= 0)
      return inner.fail("points", "must be more than 0");
    if (c["window_days"].get(x))
      return inner.fail("window_days", "is required");
    if (auto e = days_of(inner, "window_days", x, r.cap_window))
      return e;
  }
  return std::nullopt;
}

} // namespace

std::optional<problem> parse_scoring_model(std::string_view body, scoring_model& out) {
  object obj;
  if (auto e = parse_object(body, obj, "a scoring model"))
    return e;
  at top;
  if (auto e = only(top, obj, {"fit", "engagement", "grades", "bounds"}))
    return e;
  scoring_model m;
  std::vector<std::string_view> ids;
  element v;
  for (auto section : {"fit", "engagement"}) {
    if (obj[section].get(v))
      continue;
    simdjson::dom::array arr;
    if (v.get(arr))
      return top.fail(section, "must be an array of rules");
    size_t i = 0;
    for (element rule : arr) {
      at where{std::string{section} + "[" + std::to_string(i) + "]"};
      object ro;
      if (rule.get(ro))
        return where.fail(section, "rules must be objects");
      element idv;
      if (!ro["id"].get(idv) && idv.is_string())
        where.rule += " (\"" + std::string{idv.get_string().value()}.substr(0, 64) + "\")";
      std::optional<problem> e;
      if (section == std::string_view{"fit"})
        e = fit_rule_of(where, ro, m.fit.emplace_back());
      else
        e = engagement_rule_of(where, ro, m.engagement.emplace_back());
      if (e)
        return e;
      if (m.fit.size() + m.engagement.size() > max_model_rules)
        return top.fail(section, "too many rules: at most 200 in all");
      ++i;
    }
  }
  for (size_t i = 0; i < m.fit.size() + m.engagement.size(); ++i) {
    const std::string& id = i < m.fit.size() ? m.fit[i].id : m.engagement[i - m.fit.size()].id;
    for (size_t j = 0; j < i; ++j) {
      const std::string& other =
        j < m.fit.size() ? m.fit[j].id : m.engagement[j - m.fit.size()].id;
      if (id == other)
        return top.fail("id", "\"" + id + "\" is used by two rules; rule ids must be unique");
    }
  }
  if (!obj["bounds"].get(v)) {
    object b;
    at where{"bounds"};
    if (v.get(b))
      return top.fail("bounds", "must be an object: {\"min\", \"max\"}");
    if (auto e = only(where, b, {"min", "max"}))
      return e;
    element x;
    if (!b["min"].get(x))
      if (auto e = points_of(where, "min", x, m.min))
        return e;
    if (!b["max"].get(x))
      if (auto e = points_of(where, "max", x, m.max))
        return e;
    if (m.min >= m.max)
      return where.fail("min", "must be less than \"max\"");
  }
  if (!obj["grades"].get(v)) {
    object g;
    at where{"grades"};
    if (v.get(g))
      return top.fail("grades", "must be an object: {\"A\", \"B\", \"C\"} (D is below C)");
    if (auto e = only(where, g, {"A", "B", "C"}))
      return e;
    element x;
    for (auto [key, slot] : {std::pair{"A", &m.grades.a}, std::pair{"B", &m.grades.b},
                             std::pair{"C", &m.grades.c}}) {
      if (g[key].get(x))
        return where.fail(key, "is required: the lowest total with this grade");
      if (auto e = points_of(where, key, x, *slot))
        return e;
    }
    if (!(m.grades.a > m.grades.b && m.grades.b > m.grades.c))
      return where.fail("A", "must be above \"B\", and \"B\" above \"C\"");
  }
  // Compiled once: rules compare symbols, not names, on every write.
  for (auto& r : m.fit)
    if (r.target == rule_target::attribute)
      r.attribute_sym = intern(r.attribute);
  for (auto& r : m.engagement)
    r.event_sym = intern(r.event);
  out = std::move(m);
  return std::nullopt;
}

std::string_view default_scoring_model_json() {
  return R"({
  "fit": [
    {"id": "has-company", "field": "company", "op": "exists", "points": 10},
    {"id": "chief-title", "field": "title", "op": "contains", "value": "chief", "points": 20},
    {"id": "vp-title", "field": "title", "op": "prefix", "value": "vp", "points": 15},
    {"id": "director-title", "field": "title", "op": "contains", "value": "director", "points": 10},
    {"id": "business-email", "field": "email", "op": "exists", "points": 5},
    {"id": "referral", "field": "source", "op": "equals", "value": "referral", "points": 10},
    {"id": "disqualified", "field": "status", "op": "equals", "value": "unqualified", "points": -30}
  ],
  "engagement": [
    {"id": "demo-request", "event": "demo_request", "points": 30, "half_life_days": 30},
    {"id": "form-submit", "event": "form_submit", "points": 10, "half_life_days": 21,
     "cap": {"points": 30, "window_days": 7}},
    {"id": "webinar", "event": "webinar", "points": 8, "half_life_days": 30},
    {"id": "email-click", "event": "email_click", "points": 3, "half_life_days": 14,
     "cap": {"points": 15, "window_days": 7}},
    {"id": "page-view", "event": "page_view", "points": 1, "half_life_days": 7,
     "cap": {"points": 10, "window_days": 1}},
    {"id": "unsubscribe", "event": "unsubscribe", "points": -20}
  ],
  "grades": {"A": 70, "B": 45, "C": 20},
  "bounds": {"min": 0, "max": 100}
})";
}

std::string format_points(centipoints p) {
  std::string out;
  if (p < 0) {
    out += '-';
    p = -p;
  }
  out += std::to_string(p / 100);
  if (auto frac = p % 100) {
    out += '.';
    out += static_cast<char>('0' + frac / 10);
    if (frac % 10)
      out += static_cast<char>('0' + frac % 10);
  }
  return out;
}

} // namespace hotlead
