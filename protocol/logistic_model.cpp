#include "protocol/logistic_model.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include "protocol/json_out.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

// -- the model ----------------------------------------------------------------

logistic_model::logistic_model(double intercept, std::vector<model_column> columns)
    : intercept_{intercept}, columns_{std::move(columns)} {
  by_name_.resize(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    auto& col = columns_[c];
    col.level_weights.resize(col.levels.size(), 0.0);
    auto& order = by_name_[c];
    order.resize(col.levels.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return col.levels[a] < col.levels[b]; });
  }
}

double logistic_model::contribution(size_t c, const feature_value& v) const {
  const auto& col = columns_[c];
  if (!col.categorical)
    return std::isfinite(v.number) && col.stddev > 0
               ? col.weight * ((v.number - col.mean) / col.stddev)
               : 0.0;
  if (v.level.empty())
    return 0.0;
  const auto& order = by_name_[c];
  auto it = std::lower_bound(order.begin(), order.end(), v.level,
                             [&](uint32_t i, std::string_view s) { return col.levels[i] < s; });
  if (it != order.end() && col.levels[*it] == v.level)
    return col.level_weights[*it];
  return col.other_weight;
}

prediction predict(const logistic_model& m, std::span<const feature_value> values) {
  prediction out;
  out.contributions.resize(m.columns().size(), 0.0);
  double z = m.intercept();
  for (size_t c = 0; c < out.contributions.size() && c < values.size(); ++c) {
    out.contributions[c] = m.contribution(c, values[c]);
    z += out.contributions[c];
  }
  out.probability = sigmoid(z);
  return out;
}

// -- JSON out -----------------------------------------------------------------

namespace {

void number_field(std::string& out, std::string_view key, double v) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_number(out, v);
}

void write_column(std::string& out, const model_column& col) {
  out += "{\"name\":";
  append_json_string(out, col.name);
  if (!col.categorical) {
    out += ",\"kind\":\"numeric\"";
    number_field(out, "mean", col.mean);
    number_field(out, "stddev", col.stddev);
    number_field(out, "weight", col.weight);
  } else {
    out += ",\"kind\":\"categorical\",\"levels\":[";
    for (size_t i = 0; i < col.levels.size(); ++i) {
      out += i ? ",{\"name\":" : "{\"name\":";
      append_json_string(out, col.levels[i]);
      number_field(out, "weight", col.level_weights[i]);
      out += '}';
    }
    out += ']';
    number_field(out, "other_weight", col.other_weight);
  }
  out += '}';
}

} // namespace

std::string to_json(const logistic_model& m) {
  std::string out = "{\"type\":\"logistic_regression\"";
  number_field(out, "intercept", m.intercept());
  out += ",\"columns\":[";
  for (size_t c = 0; c < m.columns().size(); ++c) {
    if (c)
      out += ',';
    write_column(out, m.columns()[c]);
  }
  out += "]}";
  return out;
}

// -- JSON in ------------------------------------------------------------------

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Reads one model document. Each check sets `error_` and returns false; the
// message names the field and the column it is in.
struct model_reader {
  std::string error_;

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool finite(element v, std::string_view where, double& out) {
    if (v.get_double().get(out) || !std::isfinite(out))
      return fail(std::string{where} + " must be a finite number");
    return true;
  }
  bool text(element v, std::string_view where, std::string& out) {
    std::string_view s;
    if (v.get_string().get(s) || s.empty())
      return fail(std::string{where} + " must be a non-empty string");
    out.assign(s);
    return true;
  }
  // Every key of `obj` must be one of `known`, and every one of `known` present once.
  bool exact_keys(object obj, std::initializer_list<std::string_view> known,
                  std::string_view where) {
    size_t seen = 0;
    for (auto [k, v] : obj) {
      if (std::find(known.begin(), known.end(), k) == known.end())
        return fail(std::string{where} + " has an unknown field '" + std::string{k} + "'");
      ++seen;
    }
    for (auto k : known)
      if (obj[k].error())
        return fail(std::string{where} + " lacks the field '" + std::string{k} + "'");
    return seen == known.size() || fail(std::string{where} + " repeats a field");
  }

  bool level(element v, const std::string& where, model_column& col) {
    object obj;
    std::string name;
    double weight = 0;
    if (v.get_object().get(obj))
      return fail(where + " levels must be objects");
    if (!exact_keys(obj, {"name", "weight"}, where + " level") ||
        !text(obj["name"].value_unsafe(), where + " level name", name) ||
        !finite(obj["weight"].value_unsafe(), where + " level weight", weight))
      return false;
    if (std::find(col.levels.begin(), col.levels.end(), name) != col.levels.end())
      return fail(where + " lists the level '" + name + "' twice");
    col.levels.push_back(std::move(name));
    col.level_weights.push_back(weight);
    return true;
  }

  bool column(element v, size_t index, model_column& col) {
    object obj;
    std::string where = "column " + std::to_string(index);
    std::string_view kind;
    if (v.get_object().get(obj))
      return fail(where + " must be an object");
    if (obj["kind"].get_string().get(kind))
      return fail(where + " lacks a string field 'kind'");
    if (kind == "numeric") {
      if (!exact_keys(obj, {"name", "kind", "mean", "stddev", "weight"}, where) ||
          !text(obj["name"].value_unsafe(), where + " name", col.name))
        return false;
      where = "column '" + col.name + "'";
      if (!finite(obj["mean"].value_unsafe(), where + " mean", col.mean) ||
          !finite(obj["stddev"].value_unsafe(), where + " stddev", col.stddev) ||
          !finite(obj["weight"].value_unsafe(), where + " weight", col.weight))
        return false;
      return col.stddev >= 0 || fail(where + " stddev must not be negative");
    }
    if (kind != "categorical")
      return fail(where + " kind must be \"numeric\" or \"categorical\"");
    col.categorical = true;
    array levels;
    if (!exact_keys(obj, {"name", "kind", "levels", "other_weight"}, where) ||
        !text(obj["name"].value_unsafe(), where + " name", col.name))
      return false;
    where = "column '" + col.name + "'";
    if (obj["levels"].get_array().get(levels))
      return fail(where + " levels must be an array");
    for (element l : levels)
      if (!level(l, where, col))
        return false;
    return finite(obj["other_weight"].value_unsafe(), where + " other_weight", col.other_weight);
  }

  bool model(std::string_view json, logistic_model& out) {
    element doc;
    object obj;
    array cols;
    std::string_view type;
    double intercept = 0;
    if (auto err = json_detail::thread_parser().parse(json.data(), json.size(), true).get(doc))
      return fail(std::string{"the model is not valid JSON: "} + simdjson::error_message(err));
    if (doc.get_object().get(obj))
      return fail("the model must be a JSON object");
    if (!exact_keys(obj, {"type", "intercept", "columns"}, "the model"))
      return false;
    if (obj["type"].get_string().get(type) || type != "logistic_regression")
      return fail("the model's type must be \"logistic_regression\"");
    if (!finite(obj["intercept"].value_unsafe(), "the model's intercept", intercept))
      return false;
    if (obj["columns"].get_array().get(cols))
      return fail("the model's columns must be an array");
    std::vector<model_column> columns;
    std::unordered_set<std::string> names;
    for (element v : cols) {
      auto& col = columns.emplace_back();
      if (!column(v, columns.size() - 1, col))
        return false;
      if (!names.insert(col.name).second)
        return fail("the column name '" + col.name + "' appears twice");
    }
    out = logistic_model{intercept, std::move(columns)};
    return true;
  }
};

} // namespace

std::optional<logistic_model> parse_logistic_model(std::string_view json, std::string* error) {
  model_reader reader;
  logistic_model m;
  if (reader.model(json, m))
    return m;
  if (error)
    *error = std::move(reader.error_);
  return std::nullopt;
}

} // namespace hotlead
