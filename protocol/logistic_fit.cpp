#include "protocol/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "protocol/logistic_model.hpp"

namespace hotlead::fit_detail {

namespace {

/// Newton decrement (g' H^-1 g, about twice the distance to the optimum)
/// below which the next step is taken whole and the fit stops.
constexpr double converged_decrement = 1e-10;

/// The objective at `w` (D = d + 1 entries, the last the dummy's 0): mean log
/// loss plus the ridge term. With Derivs, also its gradient and the lower
/// triangle of its Hessian (D x D, only the leading d x d block is valid).
template <bool Derivs>
double objective(const design& X, const std::vector<double>& w, double l2, std::vector<double>& g,
                 std::vector<double>& H) {
  const size_t D = w.size(), d = D - 1, k = X.k, m = X.m;
  if (Derivs) {
    g.assign(D, 0.0);
    H.assign(D * D, 0.0);
  }
  std::vector<double> e(k + 1), se(k + 1);
  e[0] = 1;
  double loss = 0;
  for (size_t i = 0; i < X.n; ++i) {
    const double* xr = X.x.data() + i * k;
    const uint32_t* ir = X.idx.data() + i * m;
    double z = w[0];
    for (size_t j = 0; j < k; ++j)
      z += w[1 + j] * xr[j];
    for (size_t c = 0; c < m; ++c)
      z += w[ir[c]];
    double t = std::exp(-std::abs(z)), y = X.y[i];
    loss += std::max(z, 0.0) + std::log1p(t) - y * z;  // log(1 + e^z) - y z
    if constexpr (Derivs) {
      double p = z >= 0 ? 1 / (1 + t) : t / (1 + t), r = p - y, s = p * (1 - p);
      std::copy(xr, xr + k, e.begin() + 1);
      for (size_t a = 0; a <= k; ++a) {
        g[a] += r * e[a];
        se[a] = s * e[a];
        double* row = H.data() + a * D;
        for (size_t b = 0; b <= a; ++b)
          row[b] += se[a] * e[b];
      }
      // Categorical indices grow with the column (but the dummy's), so
      // these land in the lower triangle or in the dummy's row or column.
      for (size_t c = 0; c < m; ++c) {
        g[ir[c]] += r;
        double* row = H.data() + size_t(ir[c]) * D;
        for (size_t a = 0; a <= k; ++a)
          row[a] += se[a];
        for (size_t c2 = 0; c2 <= c; ++c2)
          row[ir[c2]] += s;
      }
    }
  }
  double n = double(X.n), ridge = 0;
  for (size_t j = 1; j < d; ++j)
    ridge += w[j] * w[j];
  if constexpr (Derivs) {
    for (size_t a = 0; a < d; ++a) {
      g[a] = g[a] / n + (a ? l2 * w[a] : 0.0);
      for (size_t b = 0; b <= a; ++b)
        H[a * D + b] /= n;
      if (a)
        H[a * D + a] += l2;
    }
    g[d] = 0;
  }
  return loss / n + 0.5 * l2 * ridge;
}

/// Solves H x = -g on the leading d x d block (H symmetric, lower triangle
/// given) by Cholesky. A ridge on the diagonal keeps a flat direction (l2 = 0,
/// a level that always co-occurs with another) from failing the factoring.
std::vector<double> newton_step(const std::vector<double>& H, const std::vector<double>& g,
                                size_t d) {
  const size_t D = d + 1;
  std::vector<double> L(d * d), x(D, 0.0);
  for (double jitter = 1e-12;; jitter *= 100) {
    bool ok = true;
    for (size_t a = 0; a < d && ok; ++a)
      for (size_t b = 0; b <= a; ++b) {
        double v = H[a * D + b] + (a == b ? jitter : 0.0);
        for (size_t j = 0; j < b; ++j)
          v -= L[a * d + j] * L[b * d + j];
        if (a == b) {
          ok = v > 0;
          L[a * d + a] = ok ? std::sqrt(v) : 0.0;
        } else {
          L[a * d + b] = v / L[b * d + b];
        }
      }
    if (ok || jitter > 1)
      break;
  }
  for (size_t a = 0; a < d; ++a) {  // L y = -g
    double v = -g[a];
    for (size_t j = 0; j < a; ++j)
      v -= L[a * d + j] * x[j];
    x[a] = v / L[a * d + a];
  }
  for (size_t a = d; a-- > 0;) {  // L' x = y
    double v = x[a];
    for (size_t j = a + 1; j < d; ++j)
      v -= L[j * d + a] * x[j];
    x[a] = v / L[a * d + a];
  }
  return x;
}

} // namespace

/// Damped Newton: a backtracking (Armijo) line search far from the optimum,
/// the whole step near it.
fit_result fit_newton(const design& X, size_t d, double l2, int max_iterations, double base_rate) {
  fit_result out;
  auto& w = out.w;
  w.assign(d + 1, 0.0);
  w[0] = std::log(base_rate / (1 - base_rate));
  std::vector<double> g, H, trial;
  double f = objective<true>(X, w, l2, g, H);
  while (out.iterations < max_iterations) {
    auto step = newton_step(H, g, d);
    double decrement = -std::inner_product(g.begin(), g.end(), step.begin(), 0.0);
    if (!(decrement > converged_decrement)) {
      for (size_t j = 0; j < d; ++j)
        w[j] += step[j];
      ++out.iterations;
      out.converged = true;
      break;
    }
    bool accepted = false;
    for (double t = 1; t > 1e-10 && !accepted; t /= 2) {
      trial = w;
      for (size_t j = 0; j < d; ++j)
        trial[j] += t * step[j];
      accepted = objective<false>(X, trial, l2, g, H) <= f - 1e-4 * t * decrement;
    }
    if (!accepted)  // rounding noise exceeds the gain: as good as it gets
      break;
    w.swap(trial);
    ++out.iterations;
    f = objective<true>(X, w, l2, g, H);
  }
  return out;
}

std::vector<double> probabilities(const design& X, const std::vector<double>& w) {
  std::vector<double> p(X.n);
  for (size_t i = 0; i < X.n; ++i) {
    double z = w[0];
    for (size_t j = 0; j < X.k; ++j)
      z += w[1 + j] * X.x[i * X.k + j];
    for (size_t c = 0; c < X.m; ++c)
      z += w[X.idx[i * X.m + c]];
    p[i] = sigmoid(z);
  }
  return p;
}

} // namespace hotlead::fit_detail
