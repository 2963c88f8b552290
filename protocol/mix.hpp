// splitmix64 (Steele, Lea, Flood 2014): a cheap 64-bit mix whose output
// bits all depend on every input bit. Used wherever a stable, well-spread
// hash of an id decides something (held-out leads, A/B arms, demo data).
#pragma once

#include <cstdint>

namespace hotlead {

inline constexpr uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

/// splitmix64's finaliser alone.
constexpr uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// One splitmix64 step from state `x`: mix64(x + the golden gamma).
constexpr uint64_t splitmix64(uint64_t x) {
  return mix64(x + golden_gamma);
}

} // namespace hotlead
