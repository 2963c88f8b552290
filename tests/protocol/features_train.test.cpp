// From leads to a trained model and back: the automatic feature choice
// (the 1% threshold, the 90% numeric rule, the label left out, the order),
// the trainer's columns, a model learned from synthetic leads,
// a stored model's features and the report's JSON.
#include <doctest/doctest.h>

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "protocol/features.hpp"
#include "protocol/intern.hpp"

#include "tests/support/test_rng.hpp"

using namespace hotlead;

namespace {

using testing::test_rng;

feature_def def(std::string_view name, bool categorical = false) {
  std::string error;
  auto d = parse_feature(name, categorical, &error);
  REQUIRE_MESSAGE(d.has_value(), error);
  return *d;
}

std::vector<std::string> names(const std::vector<feature_def>& defs) {
  std::vector<std::string> out;
  for (const auto& d : defs)
    out.push_back(d.name);
  return out;
}

void set_attr(lead& l, std::string_view key, attr_value v) {
  l.attributes.push_back({intern(key), std::move(v)});
}

// 200 leads: "common" on all, "mixed" on 100 (90 numbers), "mostly_text" on
// 100 (89 numbers), "a_attr" and "b_attr" on 50, "rare2" on 2 (1%), "rare1"
// on 1, "plan" (text) on 150; page_view on 10, a zero "never" counter on
// all, the tag "vip" on 5 and "once" on 1.
feature_survey sample_survey() {
  feature_survey s;
  for (int i = 0; i < 200; ++i) {
    lead l;
    set_attr(l, "common", double(i));
    if (i < 100)
      set_attr(l, "mixed", i < 90 ? attr_value{1.0} : attr_value{std::string{"n/a"}});
    if (i < 100)
      set_attr(l, "mostly_text", i < 89 ? attr_value{true} : attr_value{std::string{"n/a"}});
    if (i < 50)
      set_attr(l, "b_attr", 1.0);
    if (i >= 150)
      set_attr(l, "a_attr", std::string{"x"});
    if (i < 2)
      set_attr(l, "rare2", 1.0);
    if (i == 7)
      set_attr(l, "rare1", 1.0);
    if (i < 150)
      set_attr(l, "plan", std::string{i % 2 ? "Pro" : "Free"});
    l.counters.push_back({intern("never"), 0, 0, 0});
    if (i < 10)
      l.counters.push_back({intern("page_view"), uint32_t(i + 1), 0, 0});
    if (i < 5)
      l.tags.push_back(intern("vip"));
    if (i == 3)
      l.tags.push_back(intern("once"));
    s.add(l);
  }
  return s;
}

// Leads whose "employees" separates converted from lost (about AUC 0.96);
// "plan" and the source are noise; every tenth lead is qualified
// (unlabelled) and every seventh has no employees.
const std::vector<lead>& synthetic_leads() {
  static const std::vector<lead> leads = [] {
    test_rng rng{42};
    std::vector<lead> out;
    for (uint64_t i = 0; i < 3000; ++i) {
      lead l;
      l.id = 1000 + i;
      bool converted = rng.uniform() < 0.4;
      l.status = i % 10 == 0 ? lead_status::qualified
                             : converted ? lead_status::converted : lead_status::lost;
      l.source = intern(rng.uniform() < 0.5 ? "Web" : "Ads");
      l.set(text::title, rng.uniform() < 0.5 ? "CTO" : "");
      if (i % 7 != 0)
        set_attr(l, "employees", 500 + 100 * (rng.normal() + (converted ? 2.5 : 0)));
      set_attr(l, "plan", std::string{rng.uniform() < 0.5 ? "Pro" : "Free"});
      out.push_back(std::move(l));
    }
    return out;
  }();
  return leads;
}

struct trained {
  std::vector<feature_def> defs;
  train_result result;
};

const trained& synthetic_model() {
  static const trained t = [] {
    auto label = default_label();
    feature_survey survey;
    for (const auto& l : synthetic_leads())
      if (label_of(label, l))
        survey.add(l);
    trained out;
    out.defs = survey.choose(label, {});
    column_builder columns{out.defs};
    training_input in;
    for (const auto& l : synthetic_leads())
      if (auto y = label_of(label, l)) {
        columns.add(l);
        in.labels.push_back(*y);
        in.keys.push_back(l.id);
      }
    in.columns = columns.take();
    out.result = train_logistic(in);
    return out;
  }();
  return t;
}

} // namespace

// -- choosing features -----------------------------------------------------------------

TEST_CASE("features: auto choice keeps what 1% of the leads carry, most frequent first") {
  auto s = sample_survey();
  CHECK(s.leads() == 200);
  auto label = default_label();
  label.field = def("attributes.plan", true);
  auto defs = s.choose(label, {});
  CHECK(names(defs) == std::vector<std::string>{
                         "source", "title", "attributes.common", "attributes.mixed",
                         "attributes.mostly_text", "attributes.a_attr", "attributes.b_attr",
                         "attributes.rare2", "events.page_view", "tags.vip"});
  REQUIRE(defs.size() == 10);
  CHECK(defs[0].categorical);
  CHECK(defs[1].categorical);
  CHECK_FALSE(defs[2].categorical);
  CHECK_FALSE(defs[3].categorical);  // 90 of 100 numbers
  CHECK(defs[4].categorical);        // 89 of 100
  CHECK(defs[5].categorical);        // only strings
  CHECK(defs[5].sym == intern("a_attr"));
  CHECK(defs[8].kind == feature_kind::events);
  CHECK(defs[9].kind == feature_kind::tag);
}

TEST_CASE("features: auto choice leaves out the label's field, source and title too") {
  auto s = sample_survey();
  auto on_status = names(s.choose(default_label(), {}));
  CHECK(std::find(on_status.begin(), on_status.end(), "attributes.plan") != on_status.end());
  auto label = default_label();
  label.field = def("source");
  auto defs = s.choose(label, {});
  REQUIRE(defs.size() > 2);
  CHECK(defs[0].name == "title");
  CHECK(defs[1].name == "attributes.common");
  label.field = def("title");
  CHECK(s.choose(label, {})[0].name == "source");
  CHECK(s.choose(label, {})[1].name == "attributes.common");
}

TEST_CASE("features: auto choice takes at most 50 attributes, 50 event types and 20 tags") {
  feature_survey s;
  lead l;
  for (int i = 0; i < 60; ++i) {
    std::string n = (i < 10 ? "k0" : "k") + std::to_string(i);
    set_attr(l, n, 1.0);
    l.counters.push_back({intern("e" + n), 1, 0, 0});
    l.tags.push_back(intern("t" + n));
  }
  s.add(l);
  auto label = default_label();
  label.field = def("attributes.k00", true);  // the label does not take a place
  auto defs = s.choose(label, {});
  size_t attrs = 0, events = 0, tags = 0;
  for (const auto& d : defs) {
    attrs += d.kind == feature_kind::attribute;
    events += d.kind == feature_kind::events;
    tags += d.kind == feature_kind::tag;
  }
  CHECK(attrs == 50);
  CHECK(events == 50);
  CHECK(tags == 20);
  CHECK(defs[2].name == "attributes.k01");
  CHECK(defs[51].name == "attributes.k50");
  CHECK(defs.back().name == "tags.tk19");
}

TEST_CASE("features: listed features keep their order and attributes are typed by the data") {
  auto s = sample_survey();
  std::vector<feature_def> listed{def("tags.vip"), def("attributes.mostly_text"),
                                  def("attributes.mixed", true), def("attributes.never", true),
                                  def("title")};
  auto defs = s.choose(default_label(), listed);
  CHECK(names(defs) == names(listed));
  CHECK_FALSE(defs[0].categorical);
  CHECK(defs[1].categorical);
  CHECK_FALSE(defs[2].categorical);
  CHECK_FALSE(defs[3].categorical);  // never seen: numeric
  CHECK(defs[4].categorical);
}

// -- columns and training ----------------------------------------------------------------

TEST_CASE("features: the column builder codes levels in first-seen order") {
  column_builder b{{def("title"), def("attributes.employees"), def("attributes.plan", true)}};
  lead a, c, d;
  a.set(text::title, "CTO");
  set_attr(a, "employees", 10.0);
  set_attr(a, "plan", 2.0);
  set_attr(c, "plan", std::string{"Pro"});
  d.set(text::title, "CEO");
  set_attr(d, "employees", true);
  set_attr(d, "plan", 2.0);
  for (const lead* l : {&a, &c, &d, &a})
    b.add(*l);
  CHECK(b.size() == 4);
  auto cols = b.take();
  REQUIRE(cols.size() == 3);
  CHECK(cols[0].name == "title");
  CHECK(cols[0].categorical);
  CHECK(cols[0].levels == std::vector<std::string>{"CTO", "CEO"});
  CHECK(cols[0].codes == std::vector<uint32_t>{0, no_level, 1, 0});
  CHECK(cols[1].name == "attributes.employees");
  CHECK_FALSE(cols[1].categorical);
  REQUIRE(cols[1].numbers.size() == 4);
  CHECK(cols[1].numbers[0] == 10);
  CHECK(std::isnan(cols[1].numbers[1]));
  CHECK(cols[1].numbers[2] == 1);
  CHECK(cols[2].levels == std::vector<std::string>{"2", "Pro"});
  CHECK(cols[2].codes == std::vector<uint32_t>{0, 1, 0, 0});

  CHECK(b.size() == 0);  // empty afterwards, ready for another set
  b.add(c);
  cols = b.take();
  CHECK(cols[0].codes == std::vector<uint32_t>{no_level});
  CHECK(cols[2].levels == std::vector<std::string>{"Pro"});
}

TEST_CASE("features: leads whose attribute separates the classes train to AUC above 0.9") {
  const auto& t = synthetic_model();
  // "plan" is on every lead, "employees" on six in seven.
  CHECK(names(t.defs) == std::vector<std::string>{"source", "title", "attributes.plan",
                                                  "attributes.employees"});
  CHECK(t.defs[2].categorical);
  CHECK_FALSE(t.defs[3].categorical);
  REQUIRE(t.result.error.empty());
  REQUIRE(t.result.model.has_value());
  CHECK(t.result.report.examples == 2700);
  CHECK(t.result.report.auc > 0.9);
  REQUIRE_FALSE(t.result.report.top_weights.empty());
  CHECK(t.result.report.top_weights[0].feature == "attributes.employees");
  CHECK(t.result.report.top_weights[0].weight > 0);
}

// -- the stored model ------------------------------------------------------------------

TEST_CASE("features: a stored model's columns give back the features it was trained on") {
  const auto& t = synthetic_model();
  REQUIRE(t.result.model.has_value());
  std::string error;
  auto stored = parse_logistic_model(to_json(*t.result.model), &error);
  REQUIRE_MESSAGE(stored.has_value(), error);
  auto defs = model_features(*stored, &error);
  REQUIRE_MESSAGE(defs.has_value(), error);
  REQUIRE(defs->size() == t.defs.size());
  for (size_t i = 0; i < defs->size(); ++i) {
    CHECK((*defs)[i].name == t.defs[i].name);
    CHECK((*defs)[i].kind == t.defs[i].kind);
    CHECK((*defs)[i].categorical == t.defs[i].categorical);
    CHECK((*defs)[i].field == t.defs[i].field);
    CHECK((*defs)[i].sym == t.defs[i].sym);
  }
}

TEST_CASE("features: a model column that names no feature, or is typed otherwise, is refused") {
  std::string error;
  model_column foo;
  foo.name = "foo";
  CHECK_FALSE(model_features(logistic_model{0, {foo}}, &error).has_value());
  CHECK(error == "model column 'foo': 'foo' is not a feature: use a text field, source, "
                 "status, attributes.<key>, events.<type> or tags.<tag>");
  model_column title;
  title.name = "title";  // numeric
  CHECK_FALSE(model_features(logistic_model{0, {title}}, &error).has_value());
  CHECK(error == "model column 'title': 'title' is categorical but the model's column is numeric");
}

TEST_CASE("features: the training report is JSON with every member, an undefined AUC null") {
  const auto& t = synthetic_model();
  auto json = to_json(t.result.report);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  REQUIRE_FALSE(parser.parse(json).get(obj));
  const char* members[] = {"examples",   "train",     "holdout",          "positives",
                           "auc",        "log_loss",  "metrics_on_train", "iterations",
                           "converged",  "constant_columns", "top_weights"};
  size_t i = 0;
  for (auto [key, value] : obj) {
    REQUIRE(i < std::size(members));
    CHECK(key == members[i++]);
  }
  CHECK(i == std::size(members));
  CHECK(uint64_t(obj["examples"]) == 2700);
  CHECK(double(obj["auc"]) == t.result.report.auc);
  CHECK(bool(obj["converged"]) == t.result.report.converged);
  simdjson::dom::array top = obj["top_weights"];
  REQUIRE(top.size() == t.result.report.top_weights.size());
  CHECK(std::string_view(top.at(0)["feature"]) == "attributes.employees");
  CHECK(double(top.at(0)["weight"]) == t.result.report.top_weights[0].weight);

  training_report r;
  r.auc = std::numeric_limits<double>::quiet_NaN();
  r.metrics_on_train = true;
  r.constant_columns = {"tags.vip"};
  CHECK(to_json(r) == R"({"examples":0,"train":0,"holdout":0,"positives":0,"auc":null,)"
                      R"("log_loss":0,"metrics_on_train":true,"iterations":0,"converged":false,)"
                      R"("constant_columns":["tags.vip"],"top_weights":[]})");
}
