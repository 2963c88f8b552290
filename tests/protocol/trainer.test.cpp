#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "protocol/trainer.hpp"

#include "tests/support/test_rng.hpp"

using namespace hotlead;

namespace {

using testing::test_rng;

raw_column numeric(std::string name) {
  raw_column c;
  c.name = std::move(name);
  return c;
}

raw_column categorical(std::string name, std::vector<std::string> levels) {
  raw_column c;
  c.name = std::move(name);
  c.categorical = true;
  c.levels = std::move(levels);
  return c;
}

feature_value num(double x) {
  feature_value v;
  v.number = x;
  return v;
}

feature_value lvl(std::string_view level) {
  feature_value v;
  v.level = level;
  return v;
}

// Label ~ Bernoulli(sigmoid(3 x1 - 2 x2 + source effect)); x3 is noise.
// Sources: Referral +1.5, Web 0, Ads -1.5; a tenth of the sources missing.
training_input synthetic(size_t n, uint64_t seed) {
  test_rng rng{seed};
  training_input in;
  in.columns = {numeric("x1"), numeric("x2"), numeric("x3"),
                categorical("source", {"Referral", "Web", "Ads"})};
  const double effect[] = {1.5, 0.0, -1.5};
  for (size_t i = 0; i < n; ++i) {
    double x1 = rng.normal(), x2 = rng.normal(), x3 = rng.normal();
    uint32_t src = uint32_t(rng.next() % 3);
    bool missing = rng.uniform() < 0.1;
    double z = 3 * x1 - 2 * x2 + effect[src];
    in.columns[0].numbers.push_back(10 + 5 * x1);  // standardised back to x1
    in.columns[1].numbers.push_back(x2);
    in.columns[2].numbers.push_back(x3);
    in.columns[3].codes.push_back(missing ? no_level : src);
    in.labels.push_back(rng.uniform() < sigmoid(z) ? 1 : 0);
    in.keys.push_back(1000 + i);
  }
  return in;
}

// The same examples in another order.
training_input permuted(const training_input& in, uint64_t seed) {
  std::vector<size_t> order(in.labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  test_rng rng{seed};
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[rng.next() % i]);
  training_input out;
  out.columns = in.columns;
  for (auto& c : out.columns) {
    c.numbers.clear();
    c.codes.clear();
  }
  for (auto i : order) {
    for (size_t c = 0; c < in.columns.size(); ++c)
      if (in.columns[c].categorical)
        out.columns[c].codes.push_back(in.columns[c].codes[i]);
      else
        out.columns[c].numbers.push_back(in.columns[c].numbers[i]);
    out.labels.push_back(in.labels[i]);
    out.keys.push_back(in.keys[i]);
  }
  return out;
}

double level_weight(const model_column& c, std::string_view level) {
  auto it = std::find(c.levels.begin(), c.levels.end(), level);
  REQUIRE(it != c.levels.end());
  return c.level_weights[size_t(it - c.levels.begin())];
}

double logit(double p) {
  return std::log(p / (1 - p));
}

const training_input& shared_synthetic() {
  static const training_input in = synthetic(20000, 42);
  return in;
}

const train_result& shared_result() {
  static const train_result r = train_logistic(shared_synthetic());
  return r;
}

} // namespace

// -- training -------------------------------------------------------------------

TEST_CASE("a synthetic set with a known separating weight is learned with held-out AUC above 0.9") {
  const auto& r = shared_result();
  REQUIRE(r.error.empty());
  REQUIRE(r.model.has_value());
  const auto& rep = r.report;
  CHECK(rep.examples == 20000);
  CHECK(rep.train + rep.holdout == 20000);
  CHECK(rep.holdout > 3600);
  CHECK(rep.holdout < 4400);
  CHECK_FALSE(rep.metrics_on_train);
  CHECK(rep.converged);
  CHECK(rep.iterations < 20);
  CHECK(rep.auc > 0.9);
  CHECK(rep.log_loss > 0.1);
  CHECK(rep.log_loss < 0.45);
  CHECK(rep.constant_columns.empty());

  const auto& cols = r.model->columns();
  REQUIRE(cols.size() == 4);
  // Standardised units: x1 was stored as 10 + 5 x1, so its weight is 3 again.
  CHECK(cols[0].mean == doctest::Approx(10).epsilon(0.02));
  CHECK(cols[0].stddev == doctest::Approx(5).epsilon(0.03));
  CHECK(cols[0].weight == doctest::Approx(3).epsilon(0.1));
  CHECK(cols[1].weight == doctest::Approx(-2).epsilon(0.1));
  CHECK(std::abs(cols[2].weight) < 0.15);
  double referral = level_weight(cols[3], "Referral"), web = level_weight(cols[3], "Web"),
         ads = level_weight(cols[3], "Ads");
  CHECK(referral > web);
  CHECK(web > ads);
  CHECK(referral - ads == doctest::Approx(3).epsilon(0.15));
  CHECK(cols[3].other_weight == 0);  // no training lead had another level

  REQUIRE(rep.top_weights.size() >= 4);
  CHECK(rep.top_weights[0].feature == "x1");
  CHECK(rep.top_weights[1].feature == "x2");
  CHECK(rep.top_weights[0].weight == cols[0].weight);
}

TEST_CASE("training the same examples in another order gives the same split and model") {
  const auto& a = shared_result();
  auto b = train_logistic(permuted(shared_synthetic(), 7));
  REQUIRE(b.model.has_value());
  CHECK(b.report.train == a.report.train);
  CHECK(b.report.holdout == a.report.holdout);
  CHECK(b.report.auc == doctest::Approx(a.report.auc).epsilon(1e-9));
  CHECK(b.model->intercept() == doctest::Approx(a.model->intercept()).epsilon(1e-7));
  CHECK(b.model->columns()[0].weight == doctest::Approx(a.model->columns()[0].weight).epsilon(1e-7));
}

TEST_CASE("training the same input twice gives the same model bit for bit") {
  auto in = synthetic(3000, 11);
  auto a = train_logistic(in), b = train_logistic(in);
  REQUIRE(a.model.has_value());
  REQUIRE(b.model.has_value());
  CHECK(to_json(*a.model) == to_json(*b.model));
  CHECK(a.report.auc == b.report.auc);
}

TEST_CASE("a perfectly separable set without a ridge penalty still gives finite weights") {
  training_input in;
  in.columns = {numeric("x")};
  for (int i = 0; i < 1000; ++i) {
    in.columns[0].numbers.push_back(i);
    in.labels.push_back(i >= 500);
    in.keys.push_back(uint64_t(i));
  }
  auto r = train_logistic(in, {.l2 = 0});
  REQUIRE(r.model.has_value());
  CHECK(std::isfinite(r.model->intercept()));
  CHECK(std::isfinite(r.model->columns()[0].weight));
  CHECK(r.model->columns()[0].weight > 0);
  CHECK(r.report.auc == 1.0);
  CHECK(std::isfinite(r.report.log_loss));
}

TEST_CASE("the held-out split depends on the key alone") {
  size_t out = 0;
  for (uint64_t key = 1; key <= 100000; ++key) {
    bool h = held_out(key, 0.2);
    CHECK(h == held_out(key, 0.2));
    out += h;
    if (h)
      CHECK(held_out(key, 0.3));  // a larger fraction keeps everything a smaller one held out
  }
  CHECK(out > 19000);
  CHECK(out < 21000);
  CHECK_FALSE(held_out(12345, 0.0));
}

TEST_CASE("an input where every label is the same is an error and trains no model") {
  training_input in;
  in.columns = {numeric("employees")};
  for (int i = 0; i < 1200; ++i) {
    in.columns[0].numbers.push_back(i);
    in.labels.push_back(1);
    in.keys.push_back(uint64_t(i));
  }
  auto r = train_logistic(in);
  CHECK_FALSE(r.model.has_value());
  CHECK(r.error == "all 1200 labelled leads are positive (converted); a model needs both classes: "
                   "label leads that did not convert");
  std::fill(in.labels.begin(), in.labels.end(), uint8_t{0});
  r = train_logistic(in);
  CHECK_FALSE(r.model.has_value());
  CHECK(r.error == "all 1200 labelled leads are negative (not converted); a model needs both classes: "
                   "label converted leads");
}

TEST_CASE("an input without examples is an error") {
  training_input in;
  in.columns = {numeric("employees")};
  auto r = train_logistic(in);
  CHECK_FALSE(r.model.has_value());
  CHECK(r.error == "there are no labelled leads to train on; label leads as converted or not converted first");
}

TEST_CASE("malformed inputs are errors that name the column or example") {
  auto in = synthetic(100, 1);
  in.columns[1].numbers.pop_back();
  CHECK(train_logistic(in).error == "column 'x2' has 99 values for 100 labels");
  in = synthetic(100, 1);
  in.columns[3].codes[5] = 3;
  CHECK(train_logistic(in).error == "column 'source' has code 3 at example 5 but 3 levels");
  in = synthetic(100, 1);
  in.labels[7] = 2;
  CHECK(train_logistic(in).error == "label 2 of example 7 is not 0 or 1");
  in = synthetic(100, 1);
  in.keys.pop_back();
  CHECK(train_logistic(in).error == "there are 99 keys for 100 labels");
  in = synthetic(100, 1);
  in.columns[2].name = "x1";
  CHECK(train_logistic(in).error == "the column name 'x1' appears twice");
  in = synthetic(100, 1);
  CHECK(train_logistic(in, {.holdout = 1}).error == "holdout must be at least 0 and below 1");
  CHECK(train_logistic(in, {.l2 = -1}).error == "l2 must be a finite number of at least 0");
  in.columns.clear();
  CHECK(train_logistic(in).error == "there are no feature columns to train on; pass at least one column");
}

TEST_CASE("a constant column gets weight 0 and no NaN appears anywhere") {
  auto in = synthetic(2000, 3);
  in.columns.push_back(numeric("plan"));
  in.columns.back().numbers.assign(2000, 7.0);
  in.columns.push_back(numeric("never_set"));
  in.columns.back().numbers.assign(2000, NAN);
  in.columns.push_back(categorical("country", {"DE"}));
  in.columns.back().codes.assign(2000, 0);
  auto r = train_logistic(in);
  REQUIRE(r.model.has_value());
  CHECK(r.report.constant_columns == std::vector<std::string>{"plan", "never_set", "country"});
  const auto& cols = r.model->columns();
  CHECK(cols[4].weight == 0);
  CHECK(cols[4].stddev == 0);
  CHECK(cols[4].mean == 7);
  CHECK(cols[5].weight == 0);
  CHECK(cols[5].mean == 0);
  CHECK(cols[6].level_weights == std::vector<double>{0.0});
  auto json = to_json(*r.model);
  CHECK(json.find("null") == std::string::npos);
  CHECK(json.find("nan") == std::string::npos);
  for (const auto& w : r.report.top_weights)
    CHECK(std::isfinite(w.weight));
  std::vector<feature_value> v = {num(1), num(2), num(3), lvl("Web"), num(7), num(5), lvl("DE")};
  auto p = predict(*r.model, v);
  CHECK(std::isfinite(p.probability));
  CHECK(p.contributions[4] == 0);
  CHECK(p.contributions[5] == 0);
  CHECK(p.contributions[6] == 0);
}

TEST_CASE("only constant columns leave nothing to learn from") {
  training_input in;
  in.columns = {numeric("plan")};
  for (int i = 0; i < 100; ++i) {
    in.columns[0].numbers.push_back(3);
    in.labels.push_back(i % 2);
    in.keys.push_back(uint64_t(i));
  }
  auto r = train_logistic(in);
  CHECK_FALSE(r.model.has_value());
  CHECK(r.error == "no column varies over the training leads, so there is nothing to learn from; "
                   "add columns that differ between leads");
}

TEST_CASE("a categorical column keeps its most frequent levels and shares one weight among the rest") {
  // Level i appears 30 * (30 - i) times: L0 most often. L10 and up are
  // positive more often than the kept ones. No holdout: the counts are exact.
  test_rng rng{5};
  training_input in;
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i)
    names.push_back("L" + std::to_string(i));
  in.columns = {categorical("industry", names), numeric("x")};
  for (uint32_t code = 0; code < 30; ++code)
    for (uint32_t j = 0; j < 30 * (30 - code); ++j) {
      double x = rng.normal();
      in.columns[0].codes.push_back(code);
      in.columns[1].numbers.push_back(x);
      in.labels.push_back(rng.uniform() < sigmoid(x + (code >= 10 ? 1.0 : -1.0)));
      in.keys.push_back(in.keys.size());
    }
  auto r = train_logistic(in, {.holdout = 0, .max_levels = 10});
  REQUIRE_MESSAGE(r.model.has_value(), r.error);
  CHECK(r.report.metrics_on_train);
  const auto& c = r.model->columns()[0];
  CHECK(c.levels == std::vector<std::string>{"L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"});
  CHECK(c.other_weight > c.level_weights[0] + 1);
  auto p = predict(*r.model, std::vector<feature_value>{lvl("L25"), num(0)});
  CHECK(p.contributions[0] == c.other_weight);
  p = predict(*r.model, std::vector<feature_value>{lvl("never seen"), num(0)});
  CHECK(p.contributions[0] == c.other_weight);
  p = predict(*r.model, std::vector<feature_value>{lvl("L3"), num(0)});
  CHECK(p.contributions[0] == c.level_weights[3]);
  bool other_listed = std::any_of(r.report.top_weights.begin(), r.report.top_weights.end(),
                                  [](const weight_entry& e) { return e.feature == "industry=(other)"; });
  CHECK(other_listed);
}

TEST_CASE("a set too small to hold both classes out is trained on all of it and says so") {
  training_input in;
  in.columns = {numeric("x")};
  for (int i = 0; i < 6; ++i) {
    in.columns[0].numbers.push_back(i);
    in.labels.push_back(i >= 3);
    in.keys.push_back(uint64_t(i));
  }
  auto r = train_logistic(in, {.holdout = 0.9});
  REQUIRE(r.model.has_value());
  CHECK(r.report.train == 6);
  CHECK(r.report.holdout == 0);
  CHECK(r.report.metrics_on_train);
  CHECK(r.report.auc == 1.0);
  CHECK(r.model->columns()[0].weight > 0);
}

// -- metrics --------------------------------------------------------------------

TEST_CASE("AUC counts the ordered pairs and ties half") {
  std::vector<double> s = {0.1, 0.4, 0.35, 0.8};
  std::vector<uint8_t> y = {0, 0, 1, 1};
  CHECK(auc(s, y) == 0.75);  // 0.35 < 0.4 is the one wrong pair of four
  s = {0.5, 0.5, 0.2, 0.9};
  y = {1, 0, 0, 1};
  CHECK(auc(s, y) == 0.875);  // pairs: tie 0.5, then 1, 1, 1
  s = {0.3, 0.3, 0.3};
  y = {1, 0, 1};
  CHECK(auc(s, y) == 0.5);
  y = {1, 1, 1};
  CHECK(std::isnan(auc(s, y)));
}

TEST_CASE("log loss is the mean negative log likelihood") {
  std::vector<double> p = {0.9, 0.2};
  std::vector<uint8_t> y = {1, 0};
  CHECK(log_loss(p, y) == doctest::Approx((-std::log(0.9) - std::log(0.8)) / 2));
  CHECK(log_loss(p, y) == doctest::Approx(0.1642520335));
  p = {0.0};
  y = {1};
  CHECK(log_loss(p, y) == doctest::Approx(34.538776394910684));  // clamped to 1e-15
}

// -- prediction and storage -------------------------------------------------------

TEST_CASE("predicted contributions add up with the intercept to the log-odds") {
  const auto& m = *shared_result().model;
  std::vector<feature_value> v = {num(12.5), num(-0.7), num(NAN), lvl("Ads")};
  auto p = predict(m, v);
  REQUIRE(p.contributions.size() == 4);
  CHECK(p.contributions[2] == 0);  // missing
  double z = m.intercept() + std::accumulate(p.contributions.begin(), p.contributions.end(), 0.0);
  CHECK(logit(p.probability) == doctest::Approx(z).epsilon(1e-12));
  CHECK(p.contributions[0] == doctest::Approx(m.columns()[0].weight * (12.5 - m.columns()[0].mean) /
                                              m.columns()[0].stddev));
  auto none = predict(m, std::vector<feature_value>(4));
  CHECK(none.probability == sigmoid(m.intercept()));
  CHECK(predict(m, {}).contributions == std::vector<double>(4, 0.0));
}

TEST_CASE("a model written to JSON and parsed back predicts identically") {
  const auto& m = *shared_result().model;
  auto json = to_json(m);
  std::string error;
  auto back = parse_logistic_model(json, &error);
  REQUIRE_MESSAGE(back.has_value(), error);
  CHECK(to_json(*back) == json);
  test_rng rng{9};
  const char* levels[] = {"Referral", "Web", "Ads", "Other", ""};
  for (int i = 0; i < 1000; ++i) {
    std::vector<feature_value> v = {num(10 + 5 * rng.normal()), num(rng.normal()), num(rng.normal()),
                                    lvl(levels[rng.next() % 5])};
    auto a = predict(m, v), b = predict(*back, v);
    CHECK(a.probability == b.probability);
    CHECK(a.contributions == b.contributions);
  }
}

TEST_CASE("a model JSON has a fixed shape") {
  model_column n, c;
  n.name = "employees";
  n.mean = 50;
  n.stddev = 12.5;
  n.weight = -0.25;
  c.name = "source";
  c.categorical = true;
  c.levels = {"Referral", "Web \"x\""};
  c.level_weights = {1.5, 0.125};
  c.other_weight = -1;
  logistic_model m{-2, {n, c}};
  CHECK(to_json(m) ==
        R"({"type":"logistic_regression","intercept":-2,"columns":[)"
        R"({"name":"employees","kind":"numeric","mean":50,"stddev":12.5,"weight":-0.25},)"
        R"({"name":"source","kind":"categorical","levels":[{"name":"Referral","weight":1.5},)"
        R"({"name":"Web \"x\"","weight":0.125}],"other_weight":-1}]})");
  auto back = parse_logistic_model(to_json(m), nullptr);
  REQUIRE(back.has_value());
  CHECK(back->columns()[1].levels[1] == "Web \"x\"");
}

TEST_CASE("a malformed model JSON is an error that says what is wrong") {
  auto error_of = [](std::string_view json) {
    std::string error;
    auto m = parse_logistic_model(json, &error);
    CHECK_FALSE(m.has_value());
    return error;
  };
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[)").starts_with(
      "the model is not valid JSON: "));
  CHECK(error_of("[]") == "the model must be a JSON object");
  CHECK(error_of(R"({"type":"tree","intercept":1,"columns":[]})") ==
        R"(the model's type must be "logistic_regression")");
  CHECK(error_of(R"({"type":"logistic_regression","columns":[]})") == "the model lacks the field 'intercept'");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":"1","columns":[]})") ==
        "the model's intercept must be a finite number");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[],"x":1})") ==
        "the model has an unknown field 'x'");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[)"
                 R"({"name":"a","kind":"numeric","mean":0,"stddev":-1,"weight":1}]})") ==
        "column 'a' stddev must not be negative");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[)"
                 R"({"name":"a","kind":"numeric","mean":0,"stddev":1}]})") ==
        "column 0 lacks the field 'weight'");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[)"
                 R"({"name":"a","kind":"categorical","levels":[{"name":"x","weight":1},)"
                 R"({"name":"x","weight":2}],"other_weight":0}]})") ==
        "column 'a' lists the level 'x' twice");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[)"
                 R"({"name":"a","kind":"numeric","mean":0,"stddev":1,"weight":1},)"
                 R"({"name":"a","kind":"numeric","mean":0,"stddev":1,"weight":1}]})") ==
        "the column name 'a' appears twice");
  CHECK(error_of(R"({"type":"logistic_regression","intercept":1,"columns":[{"name":"a","kind":"text"}]})") ==
        R"(column 0 kind must be "numeric" or "categorical")");
}
