// What the predictive model (trainer.hpp, logistic_model.hpp) sees of a
// lead: features and labels named as the API names them, read from the lead
// held in memory. A feature is one of
//   a text field or "source" or "status"  categorical (the value as is)
//   "attributes.<key>"                    numeric (a number; a bool is 1/0)
//                                         or categorical (its text form)
//   "events.<type>"                       numeric: log(1 + count of that type)
//   "tags.<tag>"                          numeric: 1 with the tag, else 0
//   "log1p(attributes.<key>)"             numeric: log(1 + x) of a number >= 0
//                                         (the trainer takes a skewed
//                                         attribute so: see log_skewed)
// A label is a text field, "source", "status" or "attributes.<key>" with the
// values that count as positive and as negative (ASCII case ignored); a lead
// with neither is unlabelled. Also here: the POST /v1/models:train body, the
// automatic feature choice and the stored model record. Pure functions on
// plain data; thread-safe (symbols are interned, the parser is per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"
#include "protocol/logistic_model.hpp"
#include "protocol/trainer.hpp"

namespace hotlead {

enum class feature_kind : uint8_t { text_field, source, status, attribute, events, tag };

/// A feature (or a label's field) resolved against the lead's layout.
struct feature_def {
  std::string name;          // as the API names it: "title", "attributes.employees"
  feature_kind kind = feature_kind::text_field;
  bool categorical = false;  // text fields, source, status: always; events, tags: never
  text field = text::title;  // text_field
  symbol sym = 0;            // attribute key, event type or tag (interned)
  bool log1p = false;        // a numeric attribute read as log(1 + x)
};

/// Resolves a feature name. `categorical` only matters for attributes
/// (others have a fixed kind). nullopt and `*error` ("'foo' is not a
/// feature: use a text field, source, status, attributes.<key>,
/// events.<type> or tags.<tag>") when it names nothing; an empty key or
/// type ("attributes.") is an error too.
std::optional<feature_def> parse_feature(std::string_view name, bool categorical,
                                         std::string* error);

/// Scratch space for feature_values (the text form of numbers in
/// categorical columns); reuse one per thread to avoid allocations.
struct feature_scratch {
  std::vector<std::string> texts;
};

/// One value per def, in order, as predict() and the trainer take them:
/// numeric columns fill `number` (NaN when missing; events and tags are
/// never missing: 0), categorical ones `level` (empty when missing; a number
/// in its shortest form, a bool as "true"/"false"). The views point into the
/// lead, interned names or `scratch`: valid while those are unchanged.
void feature_values(std::span<const feature_def> defs, const lead& l,
                    std::vector<feature_value>& out, feature_scratch& scratch);


// -- labels --------------------------------------------------------------------------

struct label_spec {
  feature_def field;                  // text_field, source, status or attribute
  std::vector<std::string> positive;  // non-empty, disjoint from negative
  std::vector<std::string> negative;  // non-empty
};

/// status: converted positive, lost negative.
label_spec default_label();

/// 1 positive, 0 negative, nullopt unlabelled (no value, or neither list's).
std::optional<uint8_t> label_of(const label_spec& s, const lead& l);

/// {"field":"status","positive":["converted"],"negative":["lost"]}
std::string to_json(const label_spec& s);

// -- the training request ----------------------------------------------------------------

/// The body of POST /v1/models:train, all optional:
///   {"label": {"field", "positive": value or [values], "negative": value or [values]},
///    "features": "auto" or ["title", "attributes.employees", "events.page_view", ...],
///    "holdout": 0.2, "max_levels": 20}
/// An empty body means the default label, "auto" and the defaults.
struct train_request {
  label_spec label = default_label();
  bool auto_features = true;
  /// The listed features (not auto): names resolved, attributes not yet
  /// typed (choose_features decides numeric or categorical from the data).
  std::vector<feature_def> features;
  train_options options;
};

/// invalid_field (400) naming the member at fault for a wrong type, an
/// unknown feature, the label's field among the features, a label value in
/// both lists, more than 200 features, holdout outside [0, 0.9] or
/// max_levels outside 1..100; unknown_field for an unknown member;
/// malformed_json for bad JSON. Empty `body`: the defaults.
std::optional<problem> parse_train_request(std::string_view body, train_request& out);

// -- choosing and extracting features ---------------------------------------------------

/// Counts what the labelled leads carry, to choose features from: per
/// attribute key how many leads have a number, a bool or a string; per event
/// type and per tag how many leads have one.
class feature_survey {
public:
  void add(const lead& l);
  size_t leads() const { return leads_; }

  /// The features to train on. Auto (`listed` empty): source and title,
  /// then attributes, event types and tags present on at least 1% of the
  /// surveyed leads (at most 50 attributes, 50 event types and 20 tags, the
  /// most frequent first; ties by name), never the label's own field. An
  /// attribute is numeric when at least 90% of the leads that have it hold
  /// a number or a bool, else categorical. Listed: those features in that
  /// order, attributes typed the same way (numeric when never seen).
  std::vector<feature_def> choose(const label_spec& label,
                                  std::span<const feature_def> listed) const;

private:
  struct attr_count {
    uint64_t numeric = 0, text = 0;
  };
  size_t leads_ = 0;
  std::unordered_map<symbol, attr_count> attrs_;
  std::unordered_map<symbol, uint64_t> events_, tags_;
};

/// Numeric attribute columns whose values are skewed — none negative, and
/// the largest more than 10 x (median + 1), e.g. company sizes from 5 to
/// 10,000 — become log(1 + x) in place: a weight per standard deviation of
/// the raw value would let a few huge values decide. Such a column and its
/// def are renamed "log1p(attributes.<key>)". `columns` are column_builder's
/// output for `defs`.
void log_skewed(std::vector<feature_def>& defs, std::vector<raw_column>& columns);

/// Level name → index, looked up by string_view without a copy.
struct level_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using level_map = std::unordered_map<std::string, uint32_t, level_hash, std::equal_to<>>;

/// Builds the trainer's raw columns one lead at a time.
class column_builder {
public:
  explicit column_builder(std::vector<feature_def> defs);
  /// Appends the lead's values as one example.
  void add(const lead& l);
  size_t size() const { return examples_; }
  /// The columns (names = the defs' names); the builder is empty afterwards.
  std::vector<raw_column> take();

private:
  // Finds a level by its string_view without making a std::string of it.
  using level_codes = level_map;

  std::vector<feature_def> defs_;
  std::vector<raw_column> columns_;
  std::vector<level_codes> codes_; // per column: level → code
  size_t examples_ = 0;
  feature_scratch scratch_;
  std::vector<feature_value> values_;
};

// -- the stored model ------------------------------------------------------------------

/// {"examples","train","holdout","positives","auc","log_loss",
///  "metrics_on_train","iterations","converged","constant_columns":[..],
///  "top_weights":[{"feature","weight"}]}
std::string to_json(const training_report& r);

/// The feature defs of a trained model's columns (their names and kinds),
/// or nullopt and `*error` when a column names no feature.
std::optional<std::vector<feature_def>> model_features(const logistic_model& m,
                                                       std::string* error);

} // namespace hotlead
