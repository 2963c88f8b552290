#include "protocol/ids.hpp"

#include <array>
#include <cstring>

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

// "000102...feff": two hex digits per byte value, so an id is 8 lookups.
constexpr auto hex_pairs = [] {
  std::array<char, 512> t{};
  for (size_t b = 0; b < 256; ++b) {
    t[2 * b] = hex_digits[b >> 4];
    t[2 * b + 1] = hex_digits[b & 0xf];
  }
  return t;
}();

char* write_id(char* buf, uint64_t id) {
  for (int i = 0; i < 8; ++i)
    std::memcpy(buf + 2 * i, &hex_pairs[2 * ((id >> (56 - 8 * i)) & 0xff)], 2);
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

// A hex digit's value per byte, 0xff for anything else: no branch per
// character (ids are random, so digit-or-letter branches mispredict).
constexpr auto hex_values = [] {
  std::array<uint8_t, 256> t{};
  t.fill(0xff);
  for (unsigned c = 0; c < 10; ++c)
    t['0' + c] = static_cast<uint8_t>(c);
  for (unsigned c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<uint8_t>(10 + c);
    t['A' + c] = static_cast<uint8_t>(10 + c);
  }
  return t;
}();

std::optional<uint64_t> parse_id(std::string_view s) {
  if (s.size() != 16)
    return std::nullopt;
  uint64_t v = 0;
  unsigned bad = 0;
  for (char c : s) {
    auto d = hex_values[static_cast<unsigned char>(c)];
    bad |= d;
    v = (v << 4) | (d & 0xf);
  }
  if ((bad & 0xf0) != 0 || v == 0)
    return std::nullopt;
  return v;
}

} // namespace hotlead
