// Features and labels read from a lead, the automatic feature choice, the
// trainer's columns and the stored report (features.hpp). The training
// request's parser is in features_request.cpp. Pure functions on plain
// data: feature_values writes only to the caller's buffers.
#include "protocol/features.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <utility>

#include "protocol/ascii.hpp"
#include "protocol/intern.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace {

constexpr std::string_view feature_hint =
  "use a text field, source, status, attributes.<key>, events.<type> or tags.<tag>";
constexpr size_t max_key = 64;  // of an attribute key, event type or tag in a name

struct prefixed_kind {
  std::string_view prefix;
  feature_kind kind;
};
constexpr std::array<prefixed_kind, 3> prefixed{{
  {"attributes.", feature_kind::attribute},
  {"events.", feature_kind::events},
  {"tags.", feature_kind::tag},
}};

// Limits of the automatic choice (features.hpp).
constexpr size_t max_auto_attributes = 50, max_auto_events = 50, max_auto_tags = 20;

using number_buffer = std::array<char, 32>;

/// `d` in shortest round-trip form ("3", "0.25", "1e+21"), written to `buf`.
std::string_view number_text(double d, number_buffer& buf) {
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  return {buf.data(), static_cast<size_t>(r.ptr - buf.data())};
}

/// An attribute value as text: a string as is, a bool "true"/"false", a
/// number in `buf`.
std::string_view attr_text(const attr_value& a, number_buffer& buf) {
  if (auto* s = std::get_if<std::string>(&a))
    return *s;
  if (auto* b = std::get_if<bool>(&a))
    return *b ? "true" : "false";
  return number_text(std::get<double>(a), buf);
}

/// Numeric: a number as is, a bool 1/0, a string missing. Categorical: the
/// text form; a number's lives in `scratch`.
feature_value attribute_value(const attr_value& a, bool categorical, std::string& scratch) {
  feature_value v;
  if (!categorical) {
    if (auto* d = std::get_if<double>(&a))
      v.number = *d;
    else if (auto* b = std::get_if<bool>(&a))
      v.number = *b ? 1 : 0;
    return v;
  }
  number_buffer buf;
  v.level = attr_text(a, buf);
  if (std::holds_alternative<double>(a)) {
    scratch.assign(v.level);
    v.level = scratch;
  }
  return v;
}

uint32_t event_count(const lead& l, symbol type) {
  for (const auto& c : l.counters)
    if (c.type == type)
      return c.count;
  return 0;
}

bool has_tag(const lead& l, symbol tag) {
  return std::find(l.tags.begin(), l.tags.end(), tag) != l.tags.end();
}

feature_value value_of(const feature_def& d, const lead& l, std::string& scratch) {
  feature_value v;
  switch (d.kind) {
    case feature_kind::text_field: v.level = l.get(d.field); break;
    case feature_kind::source: v.level = symbol_name(l.source); break;
    case feature_kind::status: v.level = to_string(l.status); break;
    case feature_kind::attribute:
      if (const attribute* a = find_attribute(l, d.sym))
        v = attribute_value(a->value, d.categorical, scratch);
      if (d.log1p)
        v.number = v.number >= 0 ? std::log1p(v.number) : std::nan("");
      break;
    case feature_kind::events: v.number = std::log1p(double(event_count(l, d.sym))); break;
    case feature_kind::tag: v.number = has_tag(l, d.sym) ? 1 : 0; break;
  }
  return v;
}

/// Whether two defs read the same part of a lead (whatever their typing).
bool same_field(const feature_def& a, const feature_def& b) {
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
    case feature_kind::text_field: return a.field == b.field;
    case feature_kind::source:
    case feature_kind::status: return true;
    default: return a.sym == b.sym;
  }
}

feature_def fixed(std::string_view name) {
  return *parse_feature(name, true, nullptr);
}

feature_def keyed(std::string_view prefix, feature_kind kind, symbol sym, bool categorical) {
  feature_def d;
  d.name = prefix;
  d.name += symbol_name(sym);
  d.kind = kind;
  d.sym = sym;
  d.categorical = categorical;
  return d;
}

/// At least 90% of the leads with the attribute hold a number or a bool.
/// An attribute never seen counts as numeric.
bool numeric_attribute(uint64_t numeric, uint64_t text) {
  return numeric * 10 >= (numeric + text) * 9;
}

/// The symbols counted on at least 1% of `leads` (and at least once), most
/// frequent first, ties by name, at most `limit`.
template <class Map, class CountOf>
std::vector<symbol> frequent(const Map& counts, size_t leads, size_t limit, CountOf count_of) {
  std::vector<std::pair<uint64_t, symbol>> found;
  for (const auto& [sym, c] : counts) {
    uint64_t n = count_of(c);
    if (n >= 1 && n * 100 >= leads)
      found.emplace_back(n, sym);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : symbol_name(a.second) < symbol_name(b.second);
  });
  std::vector<symbol> out;
  for (size_t i = 0; i < found.size() && i < limit; ++i)
    out.push_back(found[i].second);
  return out;
}

void append_strings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, values[i]);
  }
  out += ']';
}

void append_member(std::string& out, std::string_view key, double value) {
  append_json_string(out, key);
  out += ':';
  append_json_number(out, value);
  out += ',';
}

void append_member(std::string& out, std::string_view key, bool value) {
  append_json_string(out, key);
  out += value ? ":true," : ":false,";
}

} // namespace

// -- features ------------------------------------------------------------------------

std::optional<feature_def> parse_feature(std::string_view name, bool categorical,
                                         std::string* error) {
  if (name.starts_with("log1p(") && name.ends_with(")")) {
    auto inner = parse_feature(name.substr(6, name.size() - 7), false, error);
    if (inner && inner->kind != feature_kind::attribute) {
      if (error)
        *error = "'" + std::string{name} + "' is not a feature: log1p() takes attributes.<key>";
      return std::nullopt;
    }
    if (inner) {
      inner->name = name;
      inner->log1p = true;
    }
    return inner;
  }
  feature_def d;
  d.name = name;
  d.categorical = true;
  for (size_t i = 0; i < text_count; ++i)
    if (text_names[i] == name) {
      d.field = static_cast<text>(i);
      return d;
    }
  if (name == "source" || name == "status") {
    d.kind = name == "source" ? feature_kind::source : feature_kind::status;
    return d;
  }
  for (const auto& [prefix, kind] : prefixed) {
    if (!name.starts_with(prefix))
      continue;
    std::string_view key = name.substr(prefix.size());
    if (key.empty() || key.size() > max_key) {
      if (error)
        *error = "'" + std::string{name} + "' is not a feature: the part after '" +
                 std::string{prefix} + "' must be 1 to 64 characters";
      return std::nullopt;
    }
    d.kind = kind;
    d.categorical = kind == feature_kind::attribute && categorical;
    d.sym = intern(key);
    return d;
  }
  if (error)
    *error = "'" + std::string{name} + "' is not a feature: " + std::string{feature_hint};
  return std::nullopt;
}

void feature_values(std::span<const feature_def> defs, const lead& l,
                    std::vector<feature_value>& out, feature_scratch& scratch) {
  out.resize(defs.size());
  if (scratch.texts.size() < defs.size()) {
    // Room for any number's text, so that later calls do not allocate.
    scratch.texts.resize(defs.size());
    for (auto& t : scratch.texts)
      t.reserve(number_buffer{}.size());
  }
  for (size_t i = 0; i < defs.size(); ++i)
    out[i] = value_of(defs[i], l, scratch.texts[i]);
}

// -- labels --------------------------------------------------------------------------

label_spec default_label() {
  return {fixed("status"), {"converted"}, {"lost"}};
}

std::optional<uint8_t> label_of(const label_spec& s, const lead& l) {
  std::string_view value;
  number_buffer buf;
  switch (s.field.kind) {
    case feature_kind::text_field: value = l.get(s.field.field); break;
    case feature_kind::source: value = symbol_name(l.source); break;
    case feature_kind::status: value = to_string(l.status); break;
    case feature_kind::attribute:
      if (const attribute* a = find_attribute(l, s.field.sym))
        value = attr_text(a->value, buf);
      break;
    case feature_kind::events:
    case feature_kind::tag: return std::nullopt; // not a label's field
  }
  if (value.empty())
    return std::nullopt;
  auto in = [value](const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(),
                       [value](const std::string& x) { return ascii_iequals(x, value); });
  };
  if (in(s.positive))
    return uint8_t{1};
  if (in(s.negative))
    return uint8_t{0};
  return std::nullopt;
}

std::string to_json(const label_spec& s) {
  std::string out = "{\"field\":";
  append_json_string(out, s.field.name);
  out += ",\"positive\":";
  append_strings(out, s.positive);
  out += ",\"negative\":";
  append_strings(out, s.negative);
  out += '}';
  return out;
}

// -- choosing and extracting features ---------------------------------------------------

void feature_survey::add(const lead& l) {
  ++leads_;
  for (const auto& a : l.attributes) {
    auto& c = attrs_[a.key];
    ++(std::holds_alternative<std::string>(a.value) ? c.text : c.numeric);
  }
  for (const auto& c : l.counters)
    if (c.count > 0)
      ++events_[c.type];
  for (auto t : l.tags)
    ++tags_[t];
}

std::vector<feature_def> feature_survey::choose(const label_spec& label,
                                                std::span<const feature_def> listed) const {
  auto typed = [this](feature_def d) {
    if (d.kind == feature_kind::attribute && !d.log1p) {
      auto it = attrs_.find(d.sym);
      d.categorical = it != attrs_.end() && !numeric_attribute(it->second.numeric, it->second.text);
    }
    return d;
  };
  std::vector<feature_def> out;
  if (!listed.empty()) {
    for (const auto& d : listed)
      out.push_back(typed(d));
    return out;
  }
  auto add = [&](feature_def d) {
    if (!same_field(d, label.field))
      out.push_back(std::move(d));
  };
  add(fixed("source"));
  add(fixed("title"));
  auto attr_total = [](const attr_count& c) { return c.numeric + c.text; };
  // One more than the limit: the label's own attribute may be among them.
  size_t attributes = 0;
  for (symbol s : frequent(attrs_, leads_, max_auto_attributes + 1, attr_total)) {
    auto d = typed(keyed("attributes.", feature_kind::attribute, s, false));
    if (attributes < max_auto_attributes && !same_field(d, label.field)) {
      out.push_back(std::move(d));
      ++attributes;
    }
  }
  auto same = [](uint64_t n) { return n; };
  for (symbol s : frequent(events_, leads_, max_auto_events, same))
    add(keyed("events.", feature_kind::events, s, false));
  for (symbol s : frequent(tags_, leads_, max_auto_tags, same))
    add(keyed("tags.", feature_kind::tag, s, false));
  return out;
}

column_builder::column_builder(std::vector<feature_def> defs)
  : defs_(std::move(defs)), codes_(defs_.size()) {
  columns_.resize(defs_.size());
  for (size_t i = 0; i < defs_.size(); ++i) {
    columns_[i].name = defs_[i].name;
    columns_[i].categorical = defs_[i].categorical;
  }
}

void column_builder::add(const lead& l) {
  feature_values(defs_, l, values_, scratch_);
  for (size_t i = 0; i < defs_.size(); ++i) {
    auto& col = columns_[i];
    if (!col.categorical) {
      col.numbers.push_back(values_[i].number);
      continue;
    }
    std::string_view level = values_[i].level;
    if (level.empty()) {
      col.codes.push_back(no_level);
      continue;
    }
    auto it = codes_[i].find(level);
    if (it == codes_[i].end()) {
      it = codes_[i].emplace(std::string{level}, uint32_t(col.levels.size())).first;
      col.levels.emplace_back(level);
    }
    col.codes.push_back(it->second);
  }
  ++examples_;
}

std::vector<raw_column> column_builder::take() {
  std::vector<raw_column> out = std::move(columns_);
  *this = column_builder{std::move(defs_)};
  return out;
}

// -- the stored model ------------------------------------------------------------------

std::string to_json(const training_report& r) {
  std::string out = "{";
  append_member(out, "examples", double(r.examples));
  append_member(out, "train", double(r.train));
  append_member(out, "holdout", double(r.holdout));
  append_member(out, "positives", double(r.positives));
  append_member(out, "auc", r.auc);  // NaN (undefined) is written as null
  append_member(out, "log_loss", r.log_loss);
  append_member(out, "metrics_on_train", r.metrics_on_train);
  append_member(out, "iterations", double(r.iterations));
  append_member(out, "converged", r.converged);
  out += "\"constant_columns\":";
  append_strings(out, r.constant_columns);
  out += ",\"top_weights\":[";
  for (size_t i = 0; i < r.top_weights.size(); ++i) {
    out += i > 0 ? ",{\"feature\":" : "{\"feature\":";
    append_json_string(out, r.top_weights[i].feature);
    out += ",\"weight\":";
    append_json_number(out, r.top_weights[i].weight);
    out += '}';
  }
  out += "]}";
  return out;
}

std::optional<std::vector<feature_def>> model_features(const logistic_model& m,
                                                       std::string* error) {
  std::vector<feature_def> out;
  for (const auto& c : m.columns()) {
    std::string why;
    auto d = parse_feature(c.name, c.categorical, &why);
    if (d && d->categorical != c.categorical)
      why = "'" + c.name + "' is " + (d->categorical ? "categorical" : "numeric") +
            " but the model's column is " + (c.categorical ? "categorical" : "numeric");
    if (!why.empty()) {
      if (error)
        *error = "model column '" + c.name + "': " + why;
      return std::nullopt;
    }
    out.push_back(std::move(*d));
  }
  return out;
}

void log_skewed(std::vector<feature_def>& defs, std::vector<raw_column>& columns) {
  for (size_t c = 0; c < defs.size() && c < columns.size(); ++c) {
    auto& d = defs[c];
    if (d.kind != feature_kind::attribute || d.categorical || d.log1p)
      continue;
    std::vector<double> xs;
    for (double x : columns[c].numbers)
      if (std::isfinite(x))
        xs.push_back(x);
    if (xs.empty() || *std::min_element(xs.begin(), xs.end()) < 0)
      continue;
    auto mid = xs.begin() + static_cast<std::ptrdiff_t>(xs.size() / 2);
    std::nth_element(xs.begin(), mid, xs.end());
    double median = *mid, max = *std::max_element(xs.begin(), xs.end());
    if (max <= 10 * (median + 1))
      continue;
    for (double& x : columns[c].numbers)
      if (std::isfinite(x))
        x = std::log1p(x);
    d.name = "log1p(" + d.name + ")";
    d.log1p = true;
    columns[c].name = d.name;
  }
}

} // namespace hotlead
