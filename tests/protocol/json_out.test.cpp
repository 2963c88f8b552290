// JSON output: string escaping, and a lead written out parses back to the
// same values (round trip through our own parser, which uses simdjson).
#include <doctest/doctest.h>

#include <simdjson.h>

#include <array>
#include <limits>
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

namespace {

// Every escape class, at every position, in every kind of string a lead holds.
const std::string nasty = std::string{"\"q\\\n\r\t"} + std::string{"\x01\x1f\0", 3} + "é€/";

lead full_lead(const std::string& text_value, size_t events) {
  lead l;
  l.id = 0x00ab00cd00ef0012ULL;
  l.org = 0xfedcba9876543210ULL;
  std::array<std::string_view, text_count> texts;
  texts.fill(text_value);
  texts[static_cast<size_t>(text::phone)] = {}; // an empty field reads as null
  l.texts.assign(texts);
  l.source = intern("src" + text_value);
  l.status = lead_status::converted;
  l.tags = {intern("t1" + text_value), intern("t2")};
  l.attributes = {{intern("s" + text_value), text_value},
                  {intern("n"), -12.5e-3},
                  {intern("i"), 1e21},
                  {intern("nan"), std::numeric_limits<double>::quiet_NaN()},
                  {intern("yes"), true},
                  {intern("no"), false}};
  l.created_at = 1795000000123;
  l.updated_at = 0; // never: null
  for (size_t i = 0; i < events; ++i)
    record_event(l, {"type" + std::to_string(i % 7) + text_value,
                     static_cast<millis>(1795000000000 + i * 86'400'000), "{}"});
  return l;
}

std::string str(simdjson::dom::element e) {
  return std::string{std::string_view{e.get_string()}};
}

} // namespace

TEST_CASE("a lead's JSON carries every field, escaped, and stays within its size bound") {
  for (const std::string& text_value : {std::string{"plain"}, nasty, std::string(255, '\x01')}) {
    CAPTURE(text_value.size());
    auto l = full_lead(text_value, 30);
    std::string out = "prefix:"; // write_lead appends
    write_lead(out, l);
    REQUIRE(out.rfind("prefix:", 0) == 0);
    auto json = out.substr(7);
    CHECK(json.size() <= lead_json_bound(l));
    CHECK(lead_json(l) == json);

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    REQUIRE_MESSAGE(parser.parse(json).get(doc) == simdjson::SUCCESS, json);
    CHECK(str(doc["id"]) == "00ab00cd00ef0012");
    CHECK(str(doc["org_id"]) == "fedcba9876543210");
    for (auto k : {"external_id", "email", "first_name", "last_name", "company", "title", "owner"})
      CHECK(str(doc[k]) == text_value);
    CHECK(doc["phone"].is_null());
    CHECK(str(doc["source"]) == "src" + text_value);
    CHECK(str(doc["status"]) == "converted");
    auto tags = doc["tags"].get_array().value();
    REQUIRE(tags.size() == 2);
    CHECK(str(tags.at(0)) == "t1" + text_value);
    auto attrs = doc["attributes"];
    CHECK(str(attrs["s" + text_value]) == text_value);
    CHECK(double(attrs["n"]) == -12.5e-3);
    CHECK(double(attrs["i"]) == 1e21);
    CHECK(attrs["nan"].is_null());
    CHECK(bool(attrs["yes"]) == true);
    CHECK(bool(attrs["no"]) == false);
    CHECK(str(doc["created_at"]) == "2026-11-18T11:06:40.123Z");
    CHECK(doc["updated_at"].is_null());
    CHECK(int64_t(doc["activity"]["events"]) == 30);
    auto by_type = doc["activity"]["by_type"].get_object().value();
    CHECK(by_type.size() == 7);
    auto t0 = by_type["type0" + text_value];
    CHECK(int64_t(t0["count"]) == 5); // events 0, 7, 14, 21, 28
    CHECK(str(t0["first_at"]) == "2026-11-18T11:06:40.000Z");
    CHECK(str(t0["last_at"]) == "2026-12-16T11:06:40.000Z");
  }
}

TEST_CASE("an empty lead writes nulls and empty collections") {
  lead l;
  auto json = lead_json(l);
  CHECK(json.size() <= lead_json_bound(l));
  CHECK(json.find("\"email\":null") != std::string::npos);
  CHECK(json.find("\"source\":null") != std::string::npos);
  CHECK(json.find("\"tags\":[],\"attributes\":{}") != std::string::npos);
  CHECK(json.find("\"activity\":{\"events\":0,\"by_type\":{}}}") != std::string::npos);
}

TEST_CASE("an escape is found at any position of a text, whatever its length") {
  simdjson::dom::parser parser;
  for (size_t len = 1; len <= 19; ++len)
    for (size_t pos = 0; pos < len; ++pos)
      for (char c : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', ' ', '~'}) {
        std::string text(len, 'x');
        text[pos] = c;
        lead l;
        l.texts.set(text::company, text);
        auto json = lead_json(l);
        simdjson::dom::element doc;
        REQUIRE_MESSAGE(parser.parse(json).get(doc) == simdjson::SUCCESS, json);
        CHECK(str(doc["company"]) == text);
      }
}

TEST_CASE("a lead's texts remember whether one needs an escape; symbols keep their JSON form") {
  lead l;
  CHECK(l.texts.plain());
  CHECK(l.texts.size() == 0);
  l.set(text::first_name, "Ann");
  l.set(text::company, "say \"hi\""); // not the last field: the flag covers all eight
  CHECK_FALSE(l.texts.plain());
  CHECK(l.texts.size() == 3 + 8);
  CHECK(l.get(text::owner).empty()); // the flag does not leak into the last offset
  auto copy = l;                      // copies keep it
  CHECK_FALSE(copy.texts.plain());
  CHECK(lead_json(copy).find(R"("company":"say \"hi\"")") != std::string::npos);
  l.set(text::company, "plain again");
  CHECK(l.texts.plain());
  CHECK(l.get(text::company) == "plain again");
  l.set(text::owner, "o\\wner"); // the last field itself
  CHECK_FALSE(l.texts.plain());
  CHECK(l.get(text::owner) == "o\\wner");
  CHECK(lead_json(l).find(R"("owner":"o\\wner")") != std::string::npos);

  CHECK(symbol_json(intern("web")) == R"("web")");
  CHECK(symbol_json(intern("a\"b\n")) == R"("a\"b\n")");
  CHECK(symbol_name(intern("a\"b\n")) == "a\"b\n");
  CHECK(symbol_json(0) == R"("")");
}
