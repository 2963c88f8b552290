// Skewed numeric attributes: "log1p(attributes.<key>)" as a feature name,
// its values, and log_skewed's choice of the columns to transform.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "protocol/features.hpp"
#include "protocol/intern.hpp"

using namespace hotlead;

namespace {

lead with_attr(std::string_view key, attr_value v) {
  lead l;
  l.attributes.push_back({intern(key), std::move(v)});
  return l;
}

} // namespace

TEST_CASE("features: log1p() wraps a numeric attribute and nothing else") {
  std::string error;
  auto d = parse_feature("log1p(attributes.employees)", true, &error);
  REQUIRE(d);
  CHECK(d->kind == feature_kind::attribute);
  CHECK(d->log1p);
  CHECK_FALSE(d->categorical);
  CHECK(d->name == "log1p(attributes.employees)");
  CHECK_FALSE(parse_feature("log1p(title)", false, &error));
  CHECK(error.find("log1p() takes attributes.<key>") != std::string::npos);
  CHECK_FALSE(parse_feature("log1p(nothing)", false, &error));

  std::vector<feature_value> out;
  feature_scratch scratch;
  feature_values(std::span{&*d, 1}, with_attr("employees", 999.0), out, scratch);
  CHECK(out[0].number == doctest::Approx(std::log(1000.0)));
  feature_values(std::span{&*d, 1}, with_attr("employees", -3.0), out, scratch);
  CHECK(std::isnan(out[0].number)); // no log of a negative number: missing
  feature_values(std::span{&*d, 1}, lead{}, out, scratch);
  CHECK(std::isnan(out[0].number));
}

TEST_CASE("features: log_skewed transforms skewed non-negative attributes only") {
  std::vector<feature_def> defs;
  for (auto name : {"attributes.employees", "attributes.score", "attributes.delta", "events.x"})
    defs.push_back(*parse_feature(name, false, nullptr));
  std::vector<lead> leads;
  const double sizes[] = {5, 20, 50, 200, 800, 3000, 10000};
  for (int i = 0; i < 70; ++i) {
    lead l;
    l.attributes.push_back({intern("employees"), sizes[i % 7]});
    l.attributes.push_back({intern("score"), double(40 + i % 20)});           // not skewed
    l.attributes.push_back({intern("delta"), double(i % 2 ? -5000 : 10)});    // negative
    l.counters.push_back({intern("x"), uint32_t(i % 3 ? 1 : 5000), 0, 0});   // not an attribute
    leads.push_back(std::move(l));
  }
  column_builder b{defs};
  for (auto& l : leads)
    b.add(l);
  auto columns = b.take();
  auto raw_score = columns[1].numbers;
  log_skewed(defs, columns);
  CHECK(defs[0].name == "log1p(attributes.employees)");
  CHECK(defs[0].log1p);
  CHECK(columns[0].name == defs[0].name);
  CHECK(columns[0].numbers[6] == doctest::Approx(std::log1p(10000.0)));
  CHECK(defs[1].name == "attributes.score");
  CHECK(columns[1].numbers == raw_score);
  CHECK(defs[2].name == "attributes.delta");
  CHECK(defs[3].name == "events.x");
  // The renamed def reads the lead as the transformed column did.
  std::vector<feature_value> out;
  feature_scratch scratch;
  feature_values(defs, leads[6], out, scratch);
  CHECK(out[0].number == doctest::Approx(columns[0].numbers[6]));
}
