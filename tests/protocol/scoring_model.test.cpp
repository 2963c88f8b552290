// The scoring model document: parse, validation (a 422 that names the rule
// and the field), points in hundredths, the default model.
#include <doctest/doctest.h>

#include "protocol/scoring_model.hpp"

using namespace hotlead;

namespace {

std::optional<problem> parse(std::string_view body) {
  scoring_model m;
  return parse_scoring_model(body, m);
}

} // namespace

TEST_CASE("the default model parses, and its rules are what the README lists") {
  scoring_model m;
  auto err = parse_scoring_model(default_scoring_model_json(), m);
  REQUIRE_MESSAGE(!err, (err ? err->detail : ""));
  CHECK(m.fit.size() == 7);
  CHECK(m.engagement.size() == 6);
  CHECK(m.min == 0);
  CHECK(m.max == 10000);
  CHECK(m.grades.a == 7000);
  CHECK(m.grades.b == 4500);
  CHECK(m.grades.c == 2000);
  CHECK(m.fit[0].id == "has-company");
  CHECK(m.fit[0].target == rule_target::text);
  CHECK(m.fit[0].field == text::company);
  CHECK(m.fit[0].when.op == rule_op::exists);
  CHECK(m.fit[6].points == -3000);
  CHECK(m.engagement[0].event == "demo_request");
  CHECK(m.engagement[0].half_life == 30 * 86'400'000LL);
  CHECK(m.engagement[1].cap == 3000);
  CHECK(m.engagement[1].cap_window == 7 * 86'400'000LL);
  CHECK(m.engagement[5].half_life == 0);
}

TEST_CASE("points are hundredths: two decimals at most") {
  scoring_model m;
  REQUIRE_FALSE(parse_scoring_model(
    R"({"fit":[{"id":"a","field":"attributes.employees","op":"range","min":50,"points":12.25}]})",
    m));
  CHECK(m.fit[0].points == 1225);
  CHECK(m.fit[0].target == rule_target::attribute);
  CHECK(m.fit[0].attribute == "employees");
  CHECK(*m.fit[0].when.min == 50);
  CHECK_FALSE(m.fit[0].when.max);
  auto e = parse(R"({"fit":[{"id":"a","field":"email","op":"exists","points":1.005}]})");
  REQUIRE(e);
  CHECK(e->code == errc::invalid_model);
  CHECK(e->detail.find("two decimals") != std::string::npos);
  CHECK(format_points(1225) == "12.25");
  CHECK(format_points(-1250) == "-12.5");
  CHECK(format_points(700) == "7");
  CHECK(format_points(-5) == "-0.05");
  CHECK(format_points(0) == "0");
}

TEST_CASE("each operator, and its negation, with its operands") {
  scoring_model m;
  REQUIRE_FALSE(parse_scoring_model(R"({"fit":[
    {"id":"eq","field":"source","op":"equals","value":"ads","points":1},
    {"id":"nin","field":"attributes.plan","op":"not_in","values":["free",1,true],"points":-1},
    {"id":"has","field":"title","op":"contains","value":"Chief","points":2},
    {"id":"pre","field":"email","op":"not_prefix","value":"info@","points":3},
    {"id":"tag","field":"tags","op":"in","values":["vip"],"points":4},
    {"id":"none","field":"phone","op":"not_exists","points":-2}]})",
                                    m));
  REQUIRE(m.fit.size() == 6);
  CHECK(m.fit[0].when.op == rule_op::equals);
  CHECK(std::get<std::string>(m.fit[0].when.values[0]) == "ads");
  CHECK(m.fit[1].when.op == rule_op::in);
  CHECK(m.fit[1].when.negate);
  CHECK(m.fit[1].when.values.size() == 3);
  CHECK(std::get<double>(m.fit[1].when.values[1]) == 1);
  CHECK(std::get<bool>(m.fit[1].when.values[2]));
  CHECK(m.fit[2].when.strings[0] == "chief"); // compared ignoring ASCII case
  CHECK(m.fit[3].when.op == rule_op::prefix);
  CHECK(m.fit[3].when.negate);
  CHECK(m.fit[4].target == rule_target::tags);
  CHECK(m.fit[5].when.op == rule_op::exists);
  CHECK(m.fit[5].when.negate);
}

TEST_CASE("engagement rules: filter, decay, cap") {
  scoring_model m;
  REQUIRE_FALSE(parse_scoring_model(R"({"engagement":[
    {"id":"pricing","event":"page_view","where":{"property":"path","op":"prefix","value":"/pricing"},
     "points":5,"half_life_days":0.5,"cap":{"points":20,"window_days":1}}]})",
                                    m));
  auto& r = m.engagement.at(0);
  CHECK(r.event == "page_view");
  CHECK(r.where == "path");
  CHECK(r.where_is->op == rule_op::prefix);
  CHECK(r.where_is->strings[0] == "/pricing");
  CHECK(r.points == 500);
  CHECK(r.half_life == 43'200'000);
  CHECK(r.cap == 2000);
  CHECK(r.cap_window == 86'400'000);
}

TEST_CASE("a bad model is a 422 that names the rule and the field") {
  struct bad_case {
    const char* body;
    const char* says;
  };
  const bad_case cases[] = {
    {R"({"fit":[{"id":"x","field":"emial","op":"exists","points":1}]})",
     R"(fit[0] ("x"): "field" must be a lead field)"},
    {R"({"fit":[{"id":"ok","field":"email","op":"exists","points":1},
                {"id":"y","field":"title","op":"like","value":"a","points":1}]})",
     R"(fit[1] ("y"): "op" must be one of)"},
    {R"({"fit":[{"id":"z","field":"title","op":"equals","points":1}]})",
     R"(fit[0] ("z"): "value" is required)"},
    {R"({"fit":[{"id":"r","field":"title","op":"range","min":1,"points":1}]})",
     R"(fit[0] ("r"): "op" range applies to numeric attributes only)"},
    {R"({"fit":[{"id":"r","field":"attributes.n","op":"range","min":5,"max":1,"points":1}]})",
     R"(fit[0] ("r"): "min" must not be more than "max")"},
    {R"({"fit":[{"id":"p","field":"email","op":"exists","points":"ten"}]})",
     R"(fit[0] ("p"): "points" must be a number)"},
    {R"({"fit":[{"id":"q","field":"email","op":"exists","points":1,"weight":2}]})",
     R"(fit[0] ("q"): "weight" is not a field)"},
    {R"({"fit":[{"field":"email","op":"exists","points":1}]})", R"(fit[0]: "id" is required)"},
    {R"({"fit":[{"id":"a b","field":"email","op":"exists","points":1}]})",
     R"("id" may contain letters)"},
    {R"({"engagement":[{"id":"e","points":1}]})", R"(engagement[0] ("e"): "event" is required)"},
    {R"({"engagement":[{"id":"e","event":"x","points":1,"half_life_days":0}]})",
     R"(engagement[0] ("e"): "half_life_days" must be more than 0)"},
    {R"({"engagement":[{"id":"e","event":"x","points":1,"cap":{"points":5}}]})",
     R"(engagement[0] ("e") cap: "window_days" is required)"},
    {R"({"engagement":[{"id":"e","event":"x","points":1,"where":{"op":"exists"}}]})",
     R"(engagement[0] ("e") where: "property" is required)"},
    {R"({"fit":[{"id":"d","field":"email","op":"exists","points":1}],
         "engagement":[{"id":"d","event":"x","points":1}]})",
     R"("d" is used by two rules)"},
    {R"({"grades":{"A":50,"B":60,"C":10}})", R"(grades: "A" must be above "B")"},
    {R"({"grades":{"A":50,"B":40}})", R"(grades: "C" is required)"},
    {R"({"bounds":{"min":100,"max":0}})", R"(bounds: "min" must be less than "max")"},
    {R"({"rules":[]})", R"("rules" is not a field)"},
    {R"({"fit":{}})", R"("fit" must be an array of rules)"},
  };
  for (auto& c : cases) {
    CAPTURE(c.body);
    auto e = parse(c.body);
    REQUIRE(e);
    CHECK(e->code == errc::invalid_model);
    CHECK(http_status(e->code) == 422);
    CHECK_MESSAGE(e->detail.find(c.says) != std::string::npos, e->detail);
  }
  auto e = parse("{\"fit\": [");
  REQUIRE(e);
  CHECK(e->code == errc::malformed_json);
}

TEST_CASE("a model with more than 200 rules is refused") {
  std::string body = R"({"fit":[)";
  for (int i = 0; i < 201; ++i)
    body += (i ? "," : "") + std::string{R"({"id":"r)"} + std::to_string(i) +
            R"(","field":"email","op":"exists","points":1})";
  body += "]}";
  auto e = parse(body);
  REQUIRE(e);
  CHECK(e->detail.find("at most 200") != std::string::npos);
}
