// A fixed-seed generator for tests that gives the same numbers with every
// standard library (std::normal_distribution does not).
#pragma once

#include <cmath>
#include <cstdint>

#include "protocol/mix.hpp"

namespace hotlead::testing {

struct test_rng {
  uint64_t state;
  uint64_t next() {
    return mix64(state += golden_gamma);
  }
  double uniform() { return double(next() >> 11) * 0x1p-53; }
  double normal() {
    double u = uniform() + 0x1p-54, v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * v);
  }
};

} // namespace hotlead::testing
