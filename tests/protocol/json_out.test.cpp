// JSON output: string escaping, and a lead written out parses back to the
// same values (round trip through our own parser, which uses simdjson).
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/lead.hpp"

using namespace hotlead;

namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

} // namespace

TEST_CASE("strings are escaped where JSON requires it and copied as they are elsewhere") {
  CHECK(json_quoted("") == R"("")");
  CHECK(json_quoted("plain ascii, spaces & ünïcödé") == R"("plain ascii, spaces & ünïcödé")");
  CHECK(json_quoted("say \"hi\"") == R"("say \"hi\"")");
  CHECK(json_quoted("C:\\path\\") == R"("C:\\path\\")");
  CHECK(json_quoted("a\nb\rc\td") == R"("a\nb\rc\td")");
  CHECK(json_quoted(std::string_view{"\x01\x1f", 2}) == R"("\u0001\u001f")");
  CHECK(json_quoted(std::string_view{"x\0y", 3}) == R"("x\u0000y")");
  CHECK(json_quoted("\"") == R"("\"")");
  CHECK(json_quoted("end\\") == R"("end\\")");
}

TEST_CASE("any string survives a round trip through a lead's JSON") {
  std::mt19937 rng{7};
  // What a text field may hold (control characters are refused on input;
  // their escapes are checked above).
  const char* tokens[] = {"a", "b", " ", "\"", "\\", "/", "\xc3\xa9", "\xe2\x82\xac", "z"};
  for (int i = 0; i < 500; ++i) {
    std::string company;
    auto len = rng() % 24;
    for (size_t k = 0; k < len; ++k)
      company += tokens[rng() % std::size(tokens)];
    std::string body = "{\"company\":" + json_quoted(company) + "}";
    lead_patch p;
    auto err = parse_lead(body, false, limits{}, p);
    REQUIRE_MESSAGE(!err, body);
    REQUIRE(p.company.has_value());
    CHECK(p.company.value == company);
  }
}
