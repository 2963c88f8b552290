#include <doctest/doctest.h>

#include "protocol/time.hpp"

using namespace hotlead;

TEST_CASE("times format as ISO 8601 UTC with milliseconds") {
  CHECK(format_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_time(1795000000123) == "2026-11-18T11:06:40.123Z");
  CHECK(format_time(951782400000) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("ISO 8601 times parse with zones, fractions and bare dates") {
  CHECK(parse_time("2026-11-18T11:06:40.123Z") == 1795000000123);
  CHECK(parse_time("2026-11-18T11:06:40Z") == 1795000000000);
  CHECK(parse_time("2026-11-18T13:06:40+02:00") == 1795000000000);
  CHECK(parse_time("2026-11-18T11:06:40.5Z") == 1795000000500);
  CHECK(parse_time("2026-11-18") == parse_time("2026-11-18T00:00:00Z"));
  CHECK(parse_time("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("malformed or impossible times are rejected") {
  for (auto bad : {"", "2026", "2026-13-01", "2026-02-30", "2023-02-29T00:00:00Z",
                   "2026-11-18T11:06:40", "2026-11-18T25:00:00Z", "2026-11-18T11:06:40.Z",
                   "2026-11-18T11:06:40Zjunk", "1969-12-31T23:59:59Z", "yesterday"})
    CHECK_MESSAGE(!parse_time(bad).has_value(), bad);
}

TEST_CASE("format and parse round-trip") {
  for (millis t : {0LL, 1LL, 999LL, 1795000000123LL, 4102444799999LL})
    CHECK(parse_time(format_time(t)) == t);
}

TEST_CASE("every day of a decade formats right, in any order (the date cache never serves a stale day)") {
  constexpr millis day = 86'400'000;
  millis start = *parse_time("2020-01-01T00:00:00Z");
  // Forward, backward and 64 days apart (the same cache slot), with a time of day.
  for (int pass = 0; pass < 3; ++pass)
    for (int i = 0; i < 3660; ++i) {
      int d = pass == 0 ? i : pass == 1 ? 3659 - i : (i * 64) % 3660;
      millis t = start + d * day + 12'345'678;
      CHECK(parse_time(format_time(t)) == t);
    }
}
