// The body of POST /v1/models:train (features.hpp): the label, the listed
// features, holdout and max_levels, checked member by member so that every
// problem names the member at fault ("features[3]", "label.negative[0]").
// Uses this thread's simdjson parser (json_parse.hpp).
#include <algorithm>
#include <initializer_list>

#include "protocol/ascii.hpp"
#include "protocol/features.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

constexpr size_t max_features = 200;
constexpr size_t max_label_values = 100, max_label_value = 200;  // per list; characters
constexpr double max_holdout = 0.9;
constexpr int64_t max_max_levels = 100;

constexpr std::string_view request_members = "use label, features, holdout or max_levels";
constexpr std::string_view label_members = "use field, positive and negative";
constexpr std::string_view label_field_hint =
  "use a text field, source, status or attributes.<key>";
constexpr std::string_view features_hint =
  "must be \"auto\" or an array of 1 to 200 feature names, e.g. [\"title\", "
  "\"attributes.employees\", \"events.page_view\", \"tags.vip\"]";

/// invalid_field, naming the member: "\"features[3]\": 'foo' is not a feature: ...".
problem invalid(std::string_view member, std::string_view what) {
  return bad(errc::invalid_field, "\"" + std::string{member} + "\": " + std::string{what});
}

std::string indexed(std::string_view member, size_t i) {
  return std::string{member} + "[" + std::to_string(i) + "]";
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

/// unknown_field for a member of `obj` not in `known`.
std::optional<problem> only(object obj, std::string_view prefix, std::string_view what,
                            std::initializer_list<std::string_view> known,
                            std::string_view hint) {
  for (auto [key, value] : obj)
    if (std::find(known.begin(), known.end(), key) == known.end())
      return bad(errc::unknown_field, "\"" + std::string{prefix} + std::string{key} +
                                        "\" is not a member of " + std::string{what} + ": " +
                                        std::string{hint});
  return std::nullopt;
}

std::optional<problem> label_value(std::string_view member, element v,
                                   std::vector<std::string>& out) {
  std::string_view s;
  if (v.get_string().get(s))
    return invalid(member, "must be a string (a value of the label's field)");
  if (s.empty() || s.size() > max_label_value)
    return invalid(member, "must be 1 to 200 characters");
  out.emplace_back(s);
  return std::nullopt;
}

/// A value, or an array of 1 to 100 values.
std::optional<problem> label_values(std::string_view member, element v,
                                    std::vector<std::string>& out) {
  if (v.is_string())
    return label_value(member, v, out);
  simdjson::dom::array arr;
  if (v.get_array().get(arr) || arr.size() == 0 || arr.size() > max_label_values)
    return invalid(member, "must be a value or an array of 1 to 100 values");
  size_t i = 0;
  for (element x : arr)
    if (auto e = label_value(indexed(member, i++), x, out))
      return e;
  return std::nullopt;
}

std::optional<problem> label_field(element v, feature_def& out) {
  std::string_view name;
  if (v.get_string().get(name))
    return invalid("label.field", "must be a string: " + std::string{label_field_hint});
  auto d = parse_feature(name, true, nullptr);
  if (!d || d->kind == feature_kind::events || d->kind == feature_kind::tag)
    return invalid("label.field",
                   in_quotes(name) + " cannot be a label: " + std::string{label_field_hint});
  out = std::move(*d);
  return std::nullopt;
}

/// A negative value that is also positive (ASCII case ignored).
std::optional<problem> disjoint(const label_spec& s, bool listed) {
  for (size_t i = 0; i < s.negative.size(); ++i)
    for (const auto& p : s.positive)
      if (ascii_iequals(p, s.negative[i]))
        return invalid(listed ? indexed("label.negative", i) : "label.negative",
                       in_quotes(s.negative[i]) +
                         " is also a positive value; a value can be positive or negative, "
                         "not both");
  return std::nullopt;
}

std::optional<problem> parse_label(element v, label_spec& out) {
  object obj;
  if (v.get_object().get(obj))
    return invalid("label", "must be an object: {\"field\": \"status\", \"positive\": "
                            "[\"converted\"], \"negative\": [\"lost\"]}");
  if (auto e = only(obj, "label.", "label", {"field", "positive", "negative"}, label_members))
    return e;
  label_spec s;
  element x;
  if (obj["field"].get(x))
    return invalid("label.field", "is required: the lead field that holds the label; " +
                                    std::string{label_field_hint});
  if (auto e = label_field(x, s.field))
    return e;
  for (auto [name, list] :
       {std::pair{"positive", &s.positive}, std::pair{"negative", &s.negative}}) {
    std::string member = "label." + std::string{name};
    if (obj[name].get(x))
      return invalid(member, "is required with a label: a value or an array of values that "
                             "make a lead " + std::string{name});
    if (auto e = label_values(member, x, *list))
      return e;
  }
  if (auto e = disjoint(s, obj["negative"].is_array()))
    return e;
  out = std::move(s);
  return std::nullopt;
}

std::optional<problem> parse_features(element v, const label_spec& label, train_request& out) {
  if (v.is_string()) {
    if (v.get_string().value() != "auto")
      return invalid("features", features_hint);
    out.auto_features = true;
    out.features.clear();
    return std::nullopt;
  }
  simdjson::dom::array arr;
  if (v.get_array().get(arr) || arr.size() == 0 || arr.size() > max_features)
    return invalid("features", features_hint);
  std::vector<feature_def> defs;
  size_t i = 0;
  for (element x : arr) {
    std::string member = indexed("features", i++);
    std::string_view name;
    if (x.get_string().get(name))
      return invalid(member, "must be a feature name (a string)");
    std::string why;
    auto d = parse_feature(name, false, &why);
    if (!d)
      return invalid(member, why);
    // Names are canonical: equal names read the same field, and only those.
    if (d->name == label.field.name)
      return invalid(member, in_quotes(name) + " is the label; a model cannot learn from its own "
                                            "label");
    auto same = [&](const feature_def& e) { return e.name == d->name; };
    if (std::any_of(defs.begin(), defs.end(), same))
      return invalid(member, in_quotes(name) + " is listed twice; list each feature once");
    defs.push_back(std::move(*d));
  }
  out.auto_features = false;
  out.features = std::move(defs);
  return std::nullopt;
}

std::optional<problem> parse_holdout(element v, double& out) {
  double h = 0;
  if (!v.is_number() || v.get_double().get(h) || !(h >= 0 && h <= max_holdout))
    return invalid("holdout", "must be a number from 0 to 0.9: the fraction of the labelled "
                              "leads held out to measure the model");
  out = h;
  return std::nullopt;
}

std::optional<problem> parse_max_levels(element v, size_t& out) {
  int64_t n = 0;
  if (v.get_int64().get(n) || n < 1 || n > max_max_levels)
    return invalid("max_levels", "must be an integer from 1 to 100: how many values of a "
                                 "categorical feature get a weight of their own");
  out = static_cast<size_t>(n);
  return std::nullopt;
}

} // namespace

std::optional<problem> parse_train_request(std::string_view body, train_request& out) {
  train_request r;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out = std::move(r);
    return std::nullopt;
  }
  object obj;
  if (auto e = parse_object(body, obj, "a training request"))
    return e;
  if (auto e = only(obj, "", "a training request",
                    {"label", "features", "holdout", "max_levels"}, request_members))
    return e;
  element v;
  // The label first: a listed feature must not be the label's field.
  if (!obj["label"].get(v))
    if (auto e = parse_label(v, r.label))
      return e;
  if (!obj["features"].get(v))
    if (auto e = parse_features(v, r.label, r))
      return e;
  if (!obj["holdout"].get(v))
    if (auto e = parse_holdout(v, r.options.holdout))
      return e;
  if (!obj["max_levels"].get(v))
    if (auto e = parse_max_levels(v, r.options.max_levels))
      return e;
  out = std::move(r);
  return std::nullopt;
}

} // namespace hotlead
