#include <doctest/doctest.h>

#include <set>

#include "protocol/ids.hpp"

using namespace hotlead;

TEST_CASE("ids print as 16 hex digits and parse back") {
  CHECK(id_to_hex(0x0123456789abcdefULL) == "0123456789abcdef");
  CHECK(parse_id("0123456789ABCDEF") == 0x0123456789abcdefULL);
  for (int i = 0; i < 100; ++i) {
    auto id = new_id();
    CHECK(parse_id(id_to_hex(id)) == id);
  }
}

TEST_CASE("malformed ids are rejected") {
  for (auto bad : {"", "123", "0123456789abcdeg", "0123456789abcdef0", "0000000000000000",
                   " 123456789abcdef"})
    CHECK_MESSAGE(!parse_id(bad).has_value(), bad);
  // Every byte that is not a hex digit, at every position.
  for (int c = 0; c < 256; ++c) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    for (size_t pos = 0; pos < 16; ++pos) {
      std::string id = "0123456789abcdef";
      id[pos] = static_cast<char>(c);
      CHECK(parse_id(id).has_value() == hex);
    }
  }
}

TEST_CASE("fresh ids do not repeat") {
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i)
    CHECK(seen.insert(new_id()).second);
  CHECK(random_hex(24).size() == 48);
  CHECK(random_hex(24) != random_hex(24));
}
