// Big-endian fixed-width integers in byte strings: RocksDB keys sort by
// them (persistence/keys.hpp) and the change feed's op keys carry them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotlead {

inline void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

/// The first 8 bytes of `s` (fewer when it is shorter) as a big-endian number.
inline uint64_t get_be64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

} // namespace hotlead
