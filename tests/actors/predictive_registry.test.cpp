// The predictive registry: A/B arms, stored settings and records, and the
// probability with its factors under the active setting.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "actors/predictive_registry.hpp"
#include "protocol/intern.hpp"

using namespace hotlead;

namespace {

predictive_entry entry(uint32_t version, double weight) {
  model_column c;
  c.name = "events.demo";
  c.mean = 0.5;
  c.stddev = 0.5;
  c.weight = weight;
  predictive_entry e;
  e.version = version;
  e.created_at = 1700000000000;
  e.summary = R"("label":{"field":"status","positive":["converted"],"negative":["lost"]})";
  e.model = logistic_model{-1.5, {c}};
  e.features = {*parse_feature("events.demo", false, nullptr)};
  return e;
}

lead demo_lead(uint64_t id, uint32_t demos) {
  lead l;
  l.id = id;
  l.org = 7;
  if (demos)
    l.counters.push_back({intern("demo"), demos, 0, 0});
  return l;
}

} // namespace

TEST_CASE("predictive: a lead's arm depends on its id alone, in about the split's share") {
  int b = 0;
  for (uint64_t id = 1; id <= 20000; ++id) {
    auto arm = arm_of(id * 0x9e3779b97f4a7c15ULL, 30);
    CHECK((arm == 'A' || arm == 'B'));
    b += arm == 'B';
    CHECK(arm_of(id * 0x9e3779b97f4a7c15ULL, 30) == arm);
  }
  CHECK(b > 5600);
  CHECK(b < 6400);
  CHECK(arm_of(42, 0) == 'A');
  CHECK(arm_of(42, 100) == 'B');
}

TEST_CASE("predictive: settings and records round-trip through their stored form") {
  predictive_setting s{3, 4, 20};
  CHECK(setting_record(s) == "3 4 20");
  CHECK(parse_setting_record("3 4 20") == s);
  CHECK(parse_setting_record("3") == predictive_setting{3, 0, 0});
  CHECK_FALSE(parse_setting_record("3 4"));
  CHECK_FALSE(parse_setting_record("x"));
  CHECK_FALSE(parse_setting_record("3 4 101"));
  CHECK(to_json(s) == R"({"version":3,"split":{"version":4,"percent":20}})");
  CHECK(to_json(predictive_setting{}) == "null");

  auto e = entry(2, 1.25);
  std::string error;
  auto back = parse_predictive_record(2, e.created_at, predictive_record(e), &error);
  REQUIRE_MESSAGE(back, error);
  CHECK(back->summary == e.summary);
  CHECK(back->features.size() == 1);
  CHECK(to_json(back->model) == to_json(e.model));
  CHECK_FALSE(parse_predictive_record(2, 0, "no model part", &error));
}

TEST_CASE("predictive: the active setting gives each lead its probability and factors") {
  predictive_registry reg;
  CHECK_FALSE(reg.predict(demo_lead(1, 2)));
  reg.add(7, entry(1, 1.0));
  reg.add(7, entry(2, -1.0));
  CHECK(reg.next_version(7) == 3);
  CHECK_FALSE(reg.predict(demo_lead(1, 2))); // nothing active yet
  reg.activate(7, {1, 0, 0});
  auto p = reg.predict(demo_lead(1, 2));
  REQUIRE(p);
  CHECK(p->version == 1);
  CHECK(p->arm == 0);
  double z = -1.5 + 1.0 * (std::log1p(2.0) - 0.5) / 0.5;
  CHECK(p->probability == doctest::Approx(1 / (1 + std::exp(-z))));
  REQUIRE(p->factors.size() == 2);
  CHECK(p->factors[0].name == "(intercept)");
  CHECK(p->factors[0].points == -150);
  CHECK(p->factors[1].name == "events.demo");
  CHECK(p->factors[1].points == std::llround(100 * (std::log1p(2.0) - 0.5) / 0.5));
  CHECK_FALSE(reg.predict([] { auto l = demo_lead(1, 2); l.org = 8; return l; }()));

  reg.activate(7, {1, 2, 50});
  int seen_b = 0;
  for (uint64_t id = 1; id < 200; ++id) {
    auto q = reg.predict(demo_lead(id * 0x9e3779b97f4a7c15ULL, 1));
    REQUIRE(q);
    CHECK(q->version == (q->arm == 'B' ? 2u : 1u));
    seen_b += q->arm == 'B';
  }
  CHECK(seen_b > 50);
  CHECK(seen_b < 150);
  reg.activate(7, {});
  CHECK_FALSE(reg.predict(demo_lead(1, 2)));
  reg.activate(7, {9, 0, 0}); // unknown: nothing active
  CHECK(reg.active(7) == predictive_setting{});
}

TEST_CASE("predictive: the probability and factors are predict() over the lead's feature values") {
  model_column source;
  source.name = "source";
  source.categorical = true;
  source.levels = {"web", "ads"};
  source.level_weights = {0.75, -0.5};
  source.other_weight = 0.125;
  model_column demos;
  demos.name = "events.demo";
  demos.mean = 0.5;
  demos.stddev = 0.5;
  demos.weight = 1.25;
  predictive_entry e;
  e.version = 1;
  e.model = logistic_model{-1.5, {source, demos}};
  std::string error;
  auto feats = model_features(e.model, &error);
  REQUIRE_MESSAGE(feats, error);
  e.features = *feats;
  auto model = e.model;
  predictive_registry reg;
  reg.add(7, std::move(e));
  reg.activate(7, {1, 0, 0});
  for (auto [src, want_name] : {std::pair{"web", "source=web"}, {"ads", "source=ads"},
                                {"mail", "source=(other)"}}) {
    auto l = demo_lead(99, 3);
    l.source = intern(src);
    std::vector<feature_value> values;
    feature_scratch scratch;
    feature_values(*feats, l, values, scratch);
    auto want = predict(model, values);
    auto got = reg.predict(l);
    REQUIRE(got);
    CHECK(got->probability == want.probability);
    REQUIRE(got->factors.size() == 3);
    CHECK(got->factors[1].name == want_name);
    CHECK(got->factors[1].points == std::llround(100 * want.contributions[0]));
    CHECK(got->factors[2].name == "events.demo");
    CHECK(got->factors[2].points == std::llround(100 * want.contributions[1]));
  }
}

TEST_CASE("predictive: a payload without an id takes arm A under a split") {
  predictive_registry reg;
  reg.add(7, entry(1, 1.0));
  reg.add(7, entry(2, -1.0));
  reg.activate(7, {1, 2, 99});
  auto p = reg.predict(demo_lead(0, 1));
  REQUIRE(p);
  CHECK(p->arm == 'A');
  CHECK(p->version == 1);
}
