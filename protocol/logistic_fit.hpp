// The numeric core of the trainer (trainer.hpp): ridge logistic regression
// fitted by damped Newton steps on a compact design, one row per example
// holding its standardised numbers and one weight index per categorical
// column. Internal to protocol/trainer.cpp; pure, single-threaded and
// deterministic (sums run in example order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hotlead::fit_detail {

/// Weight index 0 is the intercept, 1..k the numeric columns, the rest the
/// categorical levels, growing with the column. Index d (the number of
/// weights, intercept included) stands for a missing category: its weight
/// stays 0, so the inner loops never branch on "missing".
struct design {
  size_t n = 0, k = 0, m = 0;  // examples, numbers and indices per example
  std::vector<double> x;       // n * k, row-major
  std::vector<uint32_t> idx;   // n * m, row-major; each in [k + 1, d]
  std::vector<uint8_t> y;      // n labels, 0 or 1
};

struct fit_result {
  std::vector<double> w;  // d + 1 weights, the last (missing) 0
  int iterations = 0;
  bool converged = false;
};

/// Minimises mean log loss + l2/2 * |w[1..d-1]|^2 from the intercept
/// log(base_rate / (1 - base_rate)) and all else 0. Each iteration costs one
/// pass with the Hessian (about (k + m + 1)^2 / 2 multiply-adds per example),
/// one or more passes for the line search and a d x d Cholesky solve.
fit_result fit_newton(const design& X, size_t d, double l2, int max_iterations, double base_rate);

/// sigmoid(w . x) per example.
std::vector<double> probabilities(const design& X, const std::vector<double>& w);

} // namespace hotlead::fit_detail
