// Whether a string needs escapes inside a JSON string literal: the test the
// JSON writer (json_out.cpp) makes per string, also made once when a lead's
// text or a symbol is stored so that reads skip it (lead.hpp, intern.hpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace hotlead {

/// True when `s` holds a byte below 0x20, '"' or '\\'; 8 bytes at a time.
inline bool needs_json_escape(std::string_view s) {
  constexpr uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
  auto special = [](uint64_t x) { // any byte < 0x20, '"' or '\\' (exact for existence)
    auto zero = [](uint64_t v) { return (v - ones) & ~v & high; };
    return (((x - 0x20 * ones) & ~x & high) | zero(x ^ (0x22 * ones)) |
            zero(x ^ (0x5c * ones))) != 0;
  };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (special(x))
      return true;
  }
  if (i == s.size())
    return false;
  uint64_t x = 0x6161616161616161ULL; // the tail, padded with 'a'
  std::memcpy(&x, s.data() + i, s.size() - i);
  return special(x);
}

} // namespace hotlead
