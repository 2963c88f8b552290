// A trained predictive conversion model (logistic regression; trainer.hpp
// fits it): the intercept, each numeric column's training mean, stddev and
// weight, each categorical column's kept levels with their weights and one
// shared "(other)" weight. predict() turns one lead's feature values into a
// conversion probability with a log-odds contribution per column; to_json()
// and parse_logistic_model() store it. A model is immutable once built, so
// one model may serve predict() on any number of threads at once.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hotlead {

/// One column of a model. Numeric: the weight applies to the standardised
/// value (x - mean) / stddev; stddev 0 marks a column that was constant in
/// training (its weight is 0). Categorical: one weight per kept level, and
/// `other_weight` for every other non-empty level.
struct model_column {
  std::string name;
  bool categorical = false;
  double mean = 0, stddev = 0, weight = 0;  // numeric
  std::vector<std::string> levels;          // categorical: kept levels, most frequent first
  std::vector<double> level_weights;        // categorical: one per level
  double other_weight = 0;                  // categorical
};

/// What the caller passes to predict: one value per model column, in the
/// model's column order. Numeric columns read `number` (NaN or infinite =
/// missing), categorical ones read `level` (empty = missing).
struct feature_value {
  double number = std::numeric_limits<double>::quiet_NaN();
  std::string_view level;
};

/// `contributions`: the log-odds each column adds, in column order, so that
/// intercept + their sum = logit(probability). A missing value adds 0.
struct prediction {
  double probability = 0;
  std::vector<double> contributions;
};

class logistic_model {
public:
  logistic_model() = default;
  /// Takes the columns as they are; the trainer and the parser check them.
  logistic_model(double intercept, std::vector<model_column> columns);

  double intercept() const { return intercept_; }
  const std::vector<model_column>& columns() const { return columns_; }

  /// The log-odds column `c` adds for `v` (0 when missing).
  double contribution(size_t c, const feature_value& v) const;

private:
  double intercept_ = 0;
  std::vector<model_column> columns_;
  // Per column, its level indices sorted by level name: predict() finds a
  // level by binary search.
  std::vector<std::vector<uint32_t>> by_name_;
};

/// 1 / (1 + e^-z), without overflow for any z.
inline double sigmoid(double z) {
  if (z >= 0)
    return 1 / (1 + std::exp(-z));
  double e = std::exp(z);
  return e / (1 + e);
}

/// Values beyond `values.size()` count as missing; extra values are ignored.
prediction predict(const logistic_model& m, std::span<const feature_value> values);

/// Self-contained JSON: {"type":"logistic_regression","intercept":..,
/// "columns":[{"name","kind":"numeric","mean","stddev","weight"} or
/// {"name","kind":"categorical","levels":[{"name","weight"}],"other_weight"}]}.
/// Numbers are written in shortest round-trip form, so a parsed model
/// predicts bit for bit like the original.
std::string to_json(const logistic_model& m);

/// The inverse of to_json(). Unknown or missing fields, wrong types,
/// non-finite numbers, a negative stddev, duplicate column names or levels
/// are errors: nullopt, and `*error` (when given) says what is wrong. Uses
/// this thread's simdjson parser (json_parse.hpp): a document the caller got
/// from it before is invalid afterwards.
std::optional<logistic_model> parse_logistic_model(std::string_view json, std::string* error);

} // namespace hotlead
