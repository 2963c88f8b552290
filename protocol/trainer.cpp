#include "protocol/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "protocol/logistic_fit.hpp"
#include "protocol/mix.hpp"

namespace hotlead {

namespace {

constexpr std::string_view other_level = "(other)";

/// Newton's method solves a dense system with one row per weight; beyond this
/// the solve, not the data, would dominate.
constexpr size_t max_weights = 1024;

constexpr std::string_view no_examples_error =
    "there are no labelled leads to train on; label leads as converted or not converted first";
constexpr std::string_view no_columns_error =
    "there are no feature columns to train on; pass at least one column";
constexpr std::string_view no_usable_feature_error =
    "no column varies over the training leads, so there is nothing to learn from; "
    "add columns that differ between leads";
constexpr std::string_view bad_holdout_error = "holdout must be at least 0 and below 1";
constexpr std::string_view bad_l2_error = "l2 must be a finite number of at least 0";
constexpr std::string_view bad_iterations_error = "max_iterations must be at least 1";

std::string quoted(std::string_view s) {
  return "'" + std::string{s} + "'";
}

std::string column(const raw_column& c) {
  return "column " + quoted(c.name);
}

std::string one_class_error(size_t n, bool positive) {
  std::string who = n == 1 ? "the one labelled lead is"
                           : "all " + std::to_string(n) + " labelled leads are";
  return who + (positive ? " positive (converted); a model needs both classes: "
                           "label leads that did not convert"
                         : " negative (not converted); a model needs both classes: "
                           "label converted leads");
}

// -- checking the input ---------------------------------------------------------

std::string check_column(const raw_column& c, size_t n) {
  if (c.name.empty())
    return "a column has no name; name every column";
  size_t got = c.categorical ? c.codes.size() : c.numbers.size();
  if (got != n)
    return column(c) + " has " + std::to_string(got) + (c.categorical ? " codes" : " values") +
           " for " + std::to_string(n) + " labels";
  if (!c.categorical)
    return {};
  std::unordered_set<std::string_view> seen;
  for (const auto& l : c.levels) {
    if (l.empty())
      return column(c) + " has an empty level name; use no_level for a missing value";
    if (!seen.insert(l).second)
      return column(c) + " lists the level " + quoted(l) + " twice";
  }
  for (size_t i = 0; i < n; ++i)
    if (c.codes[i] != no_level && c.codes[i] >= c.levels.size())
      return column(c) + " has code " + std::to_string(c.codes[i]) + " at example " +
             std::to_string(i) + " but " + std::to_string(c.levels.size()) + " levels";
  return {};
}

std::string check_input(const training_input& in, const train_options& o) {
  if (!(o.holdout >= 0 && o.holdout < 1))
    return std::string{bad_holdout_error};
  if (!(o.l2 >= 0 && std::isfinite(o.l2)))
    return std::string{bad_l2_error};
  if (o.max_iterations < 1)
    return std::string{bad_iterations_error};
  size_t n = in.labels.size();
  if (n == 0)
    return std::string{no_examples_error};
  if (in.keys.size() != n)
    return "there are " + std::to_string(in.keys.size()) + " keys for " + std::to_string(n) +
           " labels";
  for (size_t i = 0; i < n; ++i)
    if (in.labels[i] > 1)
      return "label " + std::to_string(in.labels[i]) + " of example " + std::to_string(i) +
             " is not 0 or 1";
  if (in.columns.empty())
    return std::string{no_columns_error};
  std::unordered_set<std::string_view> names;
  for (const auto& c : in.columns) {
    if (auto e = check_column(c, n); !e.empty())
      return e;
    if (!names.insert(c.name).second)
      return "the column name " + quoted(c.name) + " appears twice";
  }
  return {};
}

// -- encoding -------------------------------------------------------------------
//
// Weight indices (logistic_fit.hpp): 0 the intercept, 1..k the usable numeric
// columns, then each usable categorical column's kept levels and its
// "(other)"; d, one past the last, is "missing".

using fit_detail::design;

/// How one input column becomes weights, decided on the training part.
struct column_plan {
  bool usable = false;
  double mean = 0, stddev = 0;        // numeric
  uint32_t slot = 0;                  // numeric: its weight; categorical: the first level's
  std::vector<uint32_t> kept;         // categorical: kept codes, most frequent first
  std::vector<uint32_t> slot_of_code; // categorical: code -> weight index
};

column_plan plan_numeric(const raw_column& c, std::span<const uint32_t> rows) {
  column_plan p;
  double sum = 0, var = 0;
  size_t seen = 0;
  for (auto r : rows)
    if (std::isfinite(c.numbers[r])) {
      sum += c.numbers[r];
      ++seen;
    }
  p.mean = seen ? sum / double(seen) : 0.0;
  for (auto r : rows)
    if (std::isfinite(c.numbers[r]))
      var += (c.numbers[r] - p.mean) * (c.numbers[r] - p.mean);
  double sd = seen ? std::sqrt(var / double(seen)) : 0.0;
  // Rounding leaves a constant column a stddev of a few ulps of its mean.
  p.usable = std::isfinite(sd) && sd > 0 && sd > 1e-12 * std::abs(p.mean);
  p.stddev = p.usable ? sd : 0.0;
  if (!std::isfinite(p.mean))
    p.mean = 0;
  return p;
}

column_plan plan_categorical(const raw_column& c, std::span<const uint32_t> rows,
                             size_t max_levels) {
  column_plan p;
  std::vector<size_t> count(c.levels.size(), 0);
  size_t missing = 0;
  for (auto r : rows)
    c.codes[r] == no_level ? ++missing : ++count[c.codes[r]];
  std::vector<uint32_t> order(c.levels.size());
  std::iota(order.begin(), order.end(), 0u);
  // By name among equals, so that the choice does not depend on code order.
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return count[a] != count[b] ? count[a] > count[b] : c.levels[a] < c.levels[b];
  });
  size_t others = 0;
  for (auto code : order)
    if (count[code] > 0 && p.kept.size() < max_levels)
      p.kept.push_back(code);
    else
      others += count[code];
  size_t buckets = p.kept.size() + (others > 0) + (missing > 0);
  p.usable = buckets > 1;
  return p;
}

// Assigns weight indices; returns the number of real weights d (the dummy is d).
size_t assign_slots(const training_input& in, std::vector<column_plan>& plans) {
  uint32_t next = 1;
  for (size_t c = 0; c < plans.size(); ++c)
    if (plans[c].usable && !in.columns[c].categorical)
      plans[c].slot = next++;
  for (size_t c = 0; c < plans.size(); ++c)
    if (plans[c].usable && in.columns[c].categorical) {
      plans[c].slot = next;
      next += uint32_t(plans[c].kept.size() + 1);
    }
  size_t d = next;
  for (size_t c = 0; c < plans.size(); ++c) {
    auto& p = plans[c];
    if (!in.columns[c].categorical)
      continue;
    uint32_t other = p.slot + uint32_t(p.kept.size());
    p.slot_of_code.assign(in.columns[c].levels.size(), p.usable ? other : uint32_t(d));
    if (p.usable)
      for (size_t i = 0; i < p.kept.size(); ++i)
        p.slot_of_code[p.kept[i]] = p.slot + uint32_t(i);
  }
  return d;
}

design encode(const training_input& in, const std::vector<column_plan>& plans,
              std::span<const uint32_t> rows, uint32_t dummy) {
  design X;
  X.n = rows.size();
  for (size_t c = 0; c < plans.size(); ++c)
    if (plans[c].usable)
      ++(in.columns[c].categorical ? X.m : X.k);
  X.x.resize(X.n * X.k);
  X.idx.resize(X.n * X.m);
  X.y.resize(X.n);
  for (size_t i = 0; i < X.n; ++i)
    X.y[i] = in.labels[rows[i]];
  size_t j = 0, cat = 0;
  for (size_t c = 0; c < plans.size(); ++c) {
    const auto& p = plans[c];
    const auto& col = in.columns[c];
    if (!p.usable)
      continue;
    if (!col.categorical) {
      for (size_t i = 0; i < X.n; ++i) {
        double v = col.numbers[rows[i]];
        X.x[i * X.k + j] = std::isfinite(v) ? (v - p.mean) / p.stddev : 0.0;
      }
      ++j;
    } else {
      for (size_t i = 0; i < X.n; ++i) {
        uint32_t code = col.codes[rows[i]];
        X.idx[i * X.m + cat] = code == no_level ? dummy : p.slot_of_code[code];
      }
      ++cat;
    }
  }
  return X;
}

// -- the result -----------------------------------------------------------------

logistic_model build_model(const training_input& in, const std::vector<column_plan>& plans,
                           const std::vector<double>& w) {
  std::vector<model_column> cols(plans.size());
  for (size_t c = 0; c < plans.size(); ++c) {
    const auto& p = plans[c];
    const auto& raw = in.columns[c];
    auto& col = cols[c];
    col.name = raw.name;
    col.categorical = raw.categorical;
    if (!raw.categorical) {
      col.mean = p.mean;
      col.stddev = p.stddev;
      col.weight = p.usable ? w[p.slot] : 0.0;
      continue;
    }
    for (size_t i = 0; i < p.kept.size(); ++i) {
      col.levels.push_back(raw.levels[p.kept[i]]);
      col.level_weights.push_back(p.usable ? w[p.slot + i] : 0.0);
    }
    col.other_weight = p.usable ? w[p.slot + p.kept.size()] : 0.0;
  }
  return logistic_model{w[0], std::move(cols)};
}

std::vector<weight_entry> top_weights(const logistic_model& m) {
  std::vector<weight_entry> all;
  for (const auto& c : m.columns()) {
    if (!c.categorical)
      all.push_back({c.name, c.weight});
    for (size_t i = 0; i < c.levels.size(); ++i)
      all.push_back({c.name + "=" + c.levels[i], c.level_weights[i]});
    if (c.categorical)
      all.push_back({c.name + "=" + std::string{other_level}, c.other_weight});
  }
  std::erase_if(all, [](const weight_entry& e) { return e.weight == 0; });
  std::sort(all.begin(), all.end(), [](const weight_entry& a, const weight_entry& b) {
    return std::abs(a.weight) != std::abs(b.weight) ? std::abs(a.weight) > std::abs(b.weight)
                                                    : a.feature < b.feature;
  });
  if (all.size() > 10)
    all.resize(10);
  return all;
}

bool both_classes(std::span<const uint8_t> y) {
  auto pos = size_t(std::count(y.begin(), y.end(), uint8_t{1}));
  return pos > 0 && pos < y.size();
}

} // namespace

// -- the trainer ------------------------------------------------------------------

train_result train_logistic(const training_input& in, const train_options& o) {
  train_result out;
  auto& rep = out.report;
  if (out.error = check_input(in, o); !out.error.empty())
    return out;
  size_t n = in.labels.size();
  rep.examples = n;
  rep.positives = size_t(std::count(in.labels.begin(), in.labels.end(), uint8_t{1}));
  if (rep.positives == 0 || rep.positives == n) {
    out.error = one_class_error(n, rep.positives == n);
    return out;
  }
  std::vector<uint32_t> train_rows, eval_rows;
  size_t train_pos = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (held_out(in.keys[i], o.holdout)) {
      eval_rows.push_back(i);
    } else {
      train_rows.push_back(i);
      train_pos += in.labels[i];
    }
  }
  if (train_pos == 0 || train_pos == train_rows.size()) {  // too few to hold any out
    train_rows.resize(n);
    std::iota(train_rows.begin(), train_rows.end(), 0u);
    eval_rows.clear();
    train_pos = rep.positives;
  }
  rep.train = train_rows.size();
  rep.holdout = eval_rows.size();

  std::vector<column_plan> plans;
  for (const auto& c : in.columns)
    plans.push_back(c.categorical ? plan_categorical(c, train_rows, o.max_levels)
                                  : plan_numeric(c, train_rows));
  size_t d = assign_slots(in, plans);
  for (size_t c = 0; c < plans.size(); ++c)
    if (!plans[c].usable)
      rep.constant_columns.push_back(in.columns[c].name);
  if (d == 1) {
    out.error = no_usable_feature_error;
    return out;
  }
  if (d - 1 > max_weights) {
    out.error = "the model would have " + std::to_string(d - 1) + " weights, more than " +
                std::to_string(max_weights) + "; lower max_levels or pass fewer columns";
    return out;
  }

  auto X = encode(in, plans, train_rows, uint32_t(d));
  double base_rate = double(train_pos) / double(train_rows.size());
  auto fitted = fit_detail::fit_newton(X, d, o.l2, o.max_iterations, base_rate);
  rep.iterations = fitted.iterations;
  rep.converged = fitted.converged;

  auto E = encode(in, plans, eval_rows, uint32_t(d));
  rep.metrics_on_train = !both_classes(E.y);
  const auto& scored = rep.metrics_on_train ? X : E;
  auto p = fit_detail::probabilities(scored, fitted.w);
  rep.auc = auc(p, scored.y);
  rep.log_loss = log_loss(p, scored.y);

  out.model = build_model(in, plans, fitted.w);
  rep.top_weights = top_weights(*out.model);
  return out;
}

// -- split and metrics ------------------------------------------------------------

bool held_out(uint64_t key, double fraction) {
  return double(splitmix64(key) >> 11) * 0x1p-53 < fraction;
}

double auc(std::span<const double> scores, std::span<const uint8_t> labels) {
  size_t n = std::min(scores.size(), labels.size());
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks (1-based), a tie group sharing its mean rank.
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i, group_pos = 0;
    for (; j < n && scores[order[j]] == scores[order[i]]; ++j)
      group_pos += labels[order[j]] != 0;
    rank_sum += double(group_pos) * (double(i + 1) + double(j)) / 2;
    pos += double(group_pos);
    i = j;
  }
  double neg = double(n) - pos;
  if (pos == 0 || neg == 0)
    return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

double log_loss(std::span<const double> probabilities, std::span<const uint8_t> labels) {
  size_t n = std::min(probabilities.size(), labels.size());
  if (n == 0)
    return 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double p = std::clamp(probabilities[i], 1e-15, 1 - 1e-15);
    sum -= labels[i] ? std::log(p) : std::log1p(-p);
  }
  return sum / double(n);
}

} // namespace hotlead
