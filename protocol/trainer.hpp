// Trains the predictive conversion model (logistic_model.hpp) on an org's
// labelled leads: the caller extracts one raw column per feature, this file
// standardises the numbers, one-hot encodes the categories (the most frequent
// levels each get a weight, the rest share "(other)"), holds out a stable
// part of the leads by a hash of their ids, fits by Newton's method with a
// ridge penalty and measures AUC and log loss on the held-out part. Pure
// functions, single-threaded and deterministic: the same input gives the
// same model. A call holds about (8 bytes x numeric columns + 4 bytes x
// categorical columns) per example on top of the input while it runs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/logistic_model.hpp"

namespace hotlead {

/// A categorical code meaning "no value".
inline constexpr uint32_t no_level = UINT32_MAX;

/// One raw feature column over all examples, as the caller extracted it.
struct raw_column {
  std::string name;                 // "employees", "source", "events.page_view"
  bool categorical = false;
  std::vector<double> numbers;      // numeric: one per example; NaN or infinite = missing
  std::vector<std::string> levels;  // categorical: the distinct level names (code = index)
  std::vector<uint32_t> codes;      // categorical: one per example, no_level = missing
};

struct training_input {
  std::vector<raw_column> columns;
  std::vector<uint8_t> labels;  // 1 positive (converted), 0 negative, one per example
  std::vector<uint64_t> keys;   // one per example (the lead id): decides the held-out split
};

struct train_options {
  double holdout = 0.2;     // fraction held out for AUC / log loss, in [0, 1)
  size_t max_levels = 20;   // per categorical column: levels with a weight of their own
  double l2 = 1e-4;         // ridge penalty on weights (not the intercept), see train_logistic
  int max_iterations = 200; // Newton steps; 5 to 15 are typical
};

/// feature: "employees", "source=Referral" or "source=(other)".
struct weight_entry {
  std::string feature;
  double weight = 0;
};

struct training_report {
  size_t examples = 0;  // all labelled leads given
  size_t train = 0;     // the part the model was fitted on
  size_t holdout = 0;   // the part held out (examples - train)
  size_t positives = 0; // among all examples
  /// On the held-out part; when it is empty or has only one class (AUC is
  /// undefined then), on the training part instead, and metrics_on_train
  /// says so.
  double auc = 0, log_loss = 0;
  bool metrics_on_train = false;
  int iterations = 0;   // Newton steps taken
  bool converged = false;
  /// Columns constant (or all missing) over the training part: weight 0.
  std::vector<std::string> constant_columns;
  /// The (at most) 10 largest non-zero |weight|, largest first: numeric
  /// weights are per standard deviation, level weights per one-hot level.
  std::vector<weight_entry> top_weights;
};

/// `error` non-empty: nothing was trained and it is a sentence for a 422
/// (the input cannot make a model), e.g. "all 1200 labelled leads are
/// positive (converted); a model needs both classes".
struct train_result {
  std::optional<logistic_model> model;
  training_report report;
  std::string error;
};

/// Fits the model. It minimises the mean log loss over the training part
/// plus l2/2 * |w|^2 (w without the intercept). The model's columns are the
/// input's, in order. When the training part lacks a class (tiny inputs,
/// a large holdout) the model is fitted on all examples, holdout is 0 and
/// metrics_on_train is set.
train_result train_logistic(const training_input& in, const train_options& o = {});

/// Whether the example with this key is held out: a hash of the key below
/// `fraction`. Depends on nothing else, so a lead stays on its side.
bool held_out(uint64_t key, double fraction);

/// Area under the ROC curve: the chance that a random positive scores above
/// a random negative, ties counting half. NaN when a class is absent.
double auc(std::span<const double> scores, std::span<const uint8_t> labels);

/// Mean negative log likelihood (natural log); probabilities are clamped to
/// [1e-15, 1 - 1e-15]. 0 for no examples.
double log_loss(std::span<const double> probabilities, std::span<const uint8_t> labels);

} // namespace hotlead
