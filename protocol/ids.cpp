#include "protocol/ids.hpp"

#include <random>

namespace hotlead {

namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64{seq};
  }()};
  return gen;
}

constexpr char hex_digits[] = "0123456789abcdef";

} // namespace

uint64_t new_id() {
  uint64_t id = 0;
  while (id == 0)
    id = generator()();
  return id;
}

std::string random_hex(size_t n_bytes) {
  // std::random_device is a CSPRNG (getrandom) on Linux/glibc.
  std::random_device rd;
  std::string out;
  out.reserve(n_bytes * 2);
  for (size_t i = 0; i < n_bytes; ++i) {
    auto b = static_cast<unsigned>(rd()) & 0xff;
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0xf]);
  }
  return out;
}

char* write_id(char* buf, uint64_t id) {
  for (int i = 15; i >= 0; --i) {
    buf[i] = hex_digits[id & 0xf];
    id >>= 4;
  }
  return buf + id_chars;
}

void append_id(std::string& out, uint64_t id) {
  char buf[id_chars];
  out.append(buf, write_id(buf, id));
}

std::string id_to_hex(uint64_t id) {
  std::string out;
  append_id(out, id);
  return out;
}

std::optional<uint64_t> parse_id(std::string_view s) {
  if (s.size() != 16)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<unsigned>(c - 'A' + 10);
    else
      return std::nullopt;
    v = (v << 4) | d;
  }
  if (v == 0)
    return std::nullopt;
  return v;
}

} // namespace hotlead
