// What the predictive model sees of a lead: feature names, each kind's
// value with missing values and numbers as levels, labels, and the
// POST /v1/models:train body with every error it names. Training with these
// pieces is in features_train.test.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "protocol/features.hpp"
#include "protocol/intern.hpp"

using namespace hotlead;

namespace {

feature_def def(std::string_view name, bool categorical = false) {
  std::string error;
  auto d = parse_feature(name, categorical, &error);
  REQUIRE_MESSAGE(d.has_value(), error);
  return *d;
}

std::string feature_error(std::string_view name) {
  std::string error;
  CHECK_FALSE(parse_feature(name, false, &error).has_value());
  return error;
}

lead sample_lead() {
  lead l;
  l.set(text::email, "ada@example.com");
  l.set(text::title, "CTO");
  l.source = intern("Referral");
  l.status = lead_status::qualified;
  l.tags = {intern("vip")};
  l.attributes = {{intern("employees"), 120.0},  {intern("plan"), std::string{"Pro"}},
                  {intern("trial"), true},        {intern("churned"), false},
                  {intern("seats"), 3.0},         {intern("ratio"), 0.1},
                  {intern("huge"), 1e21},         {intern("empty"), std::string{}}};
  l.counters = {{intern("page_view"), 3, 0, 0}, {intern("demo"), 0, 0, 0}};
  return l;
}

std::vector<feature_value> values_of(const std::vector<feature_def>& defs, const lead& l,
                                     feature_scratch& scratch) {
  std::vector<feature_value> out;
  feature_values(defs, l, out, scratch);
  REQUIRE(out.size() == defs.size());
  return out;
}

label_spec label(std::string_view field, std::vector<std::string> positive,
                 std::vector<std::string> negative) {
  return {def(field, true), std::move(positive), std::move(negative)};
}

train_request parsed(std::string_view body) {
  train_request r;
  auto e = parse_train_request(body, r);
  REQUIRE_MESSAGE(!e, (e ? e->detail : ""));
  return r;
}

problem failure(std::string_view body) {
  train_request r;
  auto e = parse_train_request(body, r);
  REQUIRE(e.has_value());
  return *e;
}

} // namespace

// -- feature names ---------------------------------------------------------------------

TEST_CASE("features: every kind of name resolves, with a fixed typing except attributes") {
  for (size_t i = 0; i < text_count; ++i) {
    auto d = def(text_names[i]);
    CHECK(d.kind == feature_kind::text_field);
    CHECK(d.field == static_cast<text>(i));
    CHECK(d.categorical);
    CHECK(d.name == text_names[i]);
  }
  CHECK(def("source").kind == feature_kind::source);
  CHECK(def("source").categorical);
  CHECK(def("status").kind == feature_kind::status);
  CHECK(def("status").categorical);

  auto a = def("attributes.employees");
  CHECK(a.kind == feature_kind::attribute);
  CHECK(a.sym == intern("employees"));
  CHECK_FALSE(a.categorical);
  CHECK(def("attributes.employees", true).categorical);

  auto e = def("events.page_view", true);
  CHECK(e.kind == feature_kind::events);
  CHECK(e.sym == intern("page_view"));
  CHECK_FALSE(e.categorical);
  auto t = def("tags.vip", true);
  CHECK(t.kind == feature_kind::tag);
  CHECK(t.sym == intern("vip"));
  CHECK_FALSE(t.categorical);
  CHECK(def("attributes." + std::string(64, 'k')).sym == intern(std::string(64, 'k')));
}

TEST_CASE("features: a name that names nothing is an error that says what to use") {
  CHECK(feature_error("foo") == "'foo' is not a feature: use a text field, source, status, "
                                "attributes.<key>, events.<type> or tags.<tag>");
  CHECK(feature_error("tags") == "'tags' is not a feature: use a text field, source, status, "
                                 "attributes.<key>, events.<type> or tags.<tag>");
  CHECK(feature_error("attributes.") ==
        "'attributes.' is not a feature: the part after 'attributes.' must be 1 to 64 characters");
  CHECK(feature_error("events.") ==
        "'events.' is not a feature: the part after 'events.' must be 1 to 64 characters");
  CHECK(feature_error("tags." + std::string(65, 't')).find("must be 1 to 64 characters") !=
        std::string::npos);
  CHECK_FALSE(parse_feature("Title", false, nullptr).has_value());  // names are exact
}

// -- values ----------------------------------------------------------------------------

TEST_CASE("features: text fields, source and status are levels, empty when missing") {
  feature_scratch scratch;
  auto l = sample_lead();
  auto v = values_of({def("title"), def("email"), def("company"), def("source"), def("status")},
                     l, scratch);
  CHECK(v[0].level == "CTO");
  CHECK(v[1].level == "ada@example.com");
  CHECK(v[2].level.empty());
  CHECK(v[3].level == "Referral");
  CHECK(v[4].level == "qualified");

  lead blank;  // no source; the status is always set
  v = values_of({def("title"), def("source"), def("status")}, blank, scratch);
  CHECK(v[0].level.empty());
  CHECK(v[1].level.empty());
  CHECK(v[2].level == "new");
}

TEST_CASE("features: a numeric attribute reads a number or a bool; a string is missing") {
  feature_scratch scratch;
  const lead l = sample_lead();  // the levels point into it
  auto v = values_of({def("attributes.employees"), def("attributes.trial"),
                      def("attributes.churned"), def("attributes.plan"),
                      def("attributes.absent")},
                     l, scratch);
  CHECK(v[0].number == 120);
  CHECK(v[1].number == 1);
  CHECK(v[2].number == 0);
  CHECK(std::isnan(v[3].number));
  CHECK(std::isnan(v[4].number));
}

TEST_CASE("features: a categorical attribute reads its text, numbers in shortest form") {
  feature_scratch scratch;
  const lead l = sample_lead();  // the levels point into it
  std::vector<feature_def> defs;
  for (auto key : {"plan", "trial", "churned", "seats", "employees", "ratio", "huge", "empty",
                   "absent"})
    defs.push_back(def("attributes." + std::string{key}, true));
  auto v = values_of(defs, l, scratch);
  CHECK(v[0].level == "Pro");
  CHECK(v[1].level == "true");
  CHECK(v[2].level == "false");
  CHECK(v[3].level == "3");
  CHECK(v[4].level == "120");
  CHECK(v[5].level == "0.1");
  CHECK(v[6].level == "1e+21");
  CHECK(v[7].level.empty());
  CHECK(v[8].level.empty());
}

TEST_CASE("features: events are log(1 + count) and tags 1 or 0, never missing") {
  feature_scratch scratch;
  const lead l = sample_lead();  // the levels point into it
  auto v = values_of({def("events.page_view"), def("events.demo"), def("events.absent"),
                      def("tags.vip"), def("tags.emea")},
                     l, scratch);
  CHECK(v[0].number == std::log1p(3.0));
  CHECK(v[1].number == 0);
  CHECK(v[2].number == 0);
  CHECK(v[3].number == 1);
  CHECK(v[4].number == 0);
}

TEST_CASE("features: reused buffers keep their memory from one lead to the next") {
  std::vector<feature_def> defs{def("attributes.employees", true), def("attributes.ratio", true),
                                def("attributes.huge", true), def("title")};
  feature_scratch scratch;
  std::vector<feature_value> out;
  auto l = sample_lead();
  feature_values(defs, l, out, scratch);
  auto* data = out.data();
  std::vector<const char*> texts;
  for (auto& t : scratch.texts)
    texts.push_back(t.data());
  l.attributes[0].value = -1.2345678901234568e-300;  // the longest shortest form
  feature_values(defs, l, out, scratch);
  CHECK(out.data() == data);
  for (size_t i = 0; i < texts.size(); ++i)
    CHECK(scratch.texts[i].data() == texts[i]);
  CHECK(out[0].level == "-1.2345678901234568e-300");
  CHECK(out[1].level == "0.1");
}

// -- labels ----------------------------------------------------------------------------

TEST_CASE("features: the default label is status, converted against lost") {
  auto s = default_label();
  CHECK(s.field.kind == feature_kind::status);
  CHECK(to_json(s) == R"({"field":"status","positive":["converted"],"negative":["lost"]})");
  lead l;
  l.status = lead_status::converted;
  CHECK(label_of(s, l) == uint8_t{1});
  l.status = lead_status::lost;
  CHECK(label_of(s, l) == uint8_t{0});
  l.status = lead_status::qualified;
  CHECK_FALSE(label_of(s, l).has_value());
}

TEST_CASE("features: a label on an attribute compares its text form ignoring ASCII case") {
  auto l = sample_lead();
  CHECK(label_of(label("attributes.plan", {"PRO"}, {"free"}), l) == uint8_t{1});
  CHECK(label_of(label("attributes.plan", {"enterprise"}, {"pro", "free"}), l) == uint8_t{0});
  CHECK_FALSE(label_of(label("attributes.plan", {"enterprise"}, {"free"}), l).has_value());
  CHECK(label_of(label("attributes.seats", {"3"}, {"1"}), l) == uint8_t{1});
  CHECK(label_of(label("attributes.ratio", {"0.2"}, {"0.1"}), l) == uint8_t{0});
  CHECK(label_of(label("attributes.trial", {"True"}, {"false"}), l) == uint8_t{1});
  CHECK(label_of(label("attributes.churned", {"true"}, {"FALSE"}), l) == uint8_t{0});
  // No value: unlabelled, even when "" were listed.
  CHECK_FALSE(label_of(label("attributes.absent", {"x"}, {""}), l).has_value());
  CHECK_FALSE(label_of(label("attributes.empty", {"x"}, {""}), l).has_value());
}

TEST_CASE("features: a label on a text field or the source") {
  auto l = sample_lead();
  CHECK(label_of(label("source", {"referral"}, {"ads"}), l) == uint8_t{1});
  CHECK(label_of(label("title", {"ceo"}, {"cto"}), l) == uint8_t{0});
  CHECK_FALSE(label_of(label("company", {"acme"}, {"globex"}), l).has_value());
  CHECK(to_json(label("attributes.plan", {"Pro", "Enterprise"}, {"Free"})) ==
        R"({"field":"attributes.plan","positive":["Pro","Enterprise"],"negative":["Free"]})");
}

// -- the training request ----------------------------------------------------------------

TEST_CASE("features: an empty or blank body means the defaults") {
  for (auto body : {"", "  \r\n\t", "{}"}) {
    auto r = parsed(body);
    CHECK(to_json(r.label) == to_json(default_label()));
    CHECK(r.auto_features);
    CHECK(r.features.empty());
    CHECK(r.options.holdout == train_options{}.holdout);
    CHECK(r.options.max_levels == train_options{}.max_levels);
  }
}

TEST_CASE("features: a full request is read member by member") {
  auto r = parsed(R"({"label":{"field":"attributes.plan","positive":["Pro","Enterprise"],
    "negative":"Free"},"features":["title","attributes.employees","events.page_view",
    "tags.vip"],"holdout":0.3,"max_levels":5})");
  CHECK(r.label.field.name == "attributes.plan");
  CHECK(r.label.field.sym == intern("plan"));
  CHECK(r.label.positive == std::vector<std::string>{"Pro", "Enterprise"});
  CHECK(r.label.negative == std::vector<std::string>{"Free"});
  CHECK_FALSE(r.auto_features);
  REQUIRE(r.features.size() == 4);
  CHECK(r.features[0].kind == feature_kind::text_field);
  CHECK(r.features[1].kind == feature_kind::attribute);
  CHECK(r.features[2].kind == feature_kind::events);
  CHECK(r.features[3].kind == feature_kind::tag);
  CHECK(r.options.holdout == 0.3);
  CHECK(r.options.max_levels == 5);

  r = parsed(R"({"label":{"field":"source","positive":"Referral","negative":["Ads"]},
                 "features":"auto","holdout":0,"max_levels":100})");
  CHECK(r.label.positive == std::vector<std::string>{"Referral"});
  CHECK(r.label.negative == std::vector<std::string>{"Ads"});
  CHECK(r.auto_features);
  CHECK(r.options.holdout == 0);
  CHECK(r.options.max_levels == 100);
  CHECK(parsed(R"({"holdout":0.9})").options.holdout == 0.9);
}

TEST_CASE("features: a body that is not a JSON object is malformed") {
  CHECK(failure("{").code == errc::malformed_json);
  CHECK(failure("[1]").code == errc::malformed_json);
  CHECK(failure("[1]").detail == "a training request must be a JSON object");
}

TEST_CASE("features: an unknown member is named") {
  auto p = failure(R"({"holdout":0.2,"lable":{}})");
  CHECK(p.code == errc::unknown_field);
  CHECK(p.detail == "\"lable\" is not a member of a training request: use label, features, "
                    "holdout or max_levels");
  p = failure(R"({"label":{"field":"status","positive":"converted","negative":"lost","x":1}})");
  CHECK(p.code == errc::unknown_field);
  CHECK(p.detail == "\"label.x\" is not a member of label: use field, positive and negative");
}

TEST_CASE("features: each invalid member is named in the problem") {
  struct row {
    const char* body;
    const char* detail_start;
  };
  const row rows[] = {
    {R"({"label":"status"})", "\"label\": must be an object"},
    {R"({"label":{"positive":"a","negative":"b"}})", "\"label.field\": is required"},
    {R"({"label":{"field":1,"positive":"a","negative":"b"}})", "\"label.field\": must be a string"},
    {R"({"label":{"field":"events.demo","positive":"a","negative":"b"}})",
     "\"label.field\": 'events.demo' cannot be a label: use a text field, source, status or "
     "attributes.<key>"},
    {R"({"label":{"field":"plan","positive":"a","negative":"b"}})",
     "\"label.field\": 'plan' cannot be a label"},
    {R"({"label":{"field":"status","negative":"lost"}})", "\"label.positive\": is required"},
    {R"({"label":{"field":"status","positive":"converted"}})", "\"label.negative\": is required"},
    {R"({"label":{"field":"status","positive":[],"negative":"lost"}})",
     "\"label.positive\": must be a value or an array of 1 to 100 values"},
    {R"({"label":{"field":"status","positive":["converted",2],"negative":"lost"}})",
     "\"label.positive[1]\": must be a string"},
    {R"({"label":{"field":"status","positive":"","negative":"lost"}})",
     "\"label.positive\": must be 1 to 200 characters"},
    {R"({"label":{"field":"status","positive":["won","Converted"],
                  "negative":["lost","converted"]}})",
     "\"label.negative[1]\": 'converted' is also a positive value"},
    {R"({"label":{"field":"status","positive":"Lost","negative":"lost"}})",
     "\"label.negative\": 'lost' is also a positive value"},
    {R"({"features":"all"})", "\"features\": must be \"auto\" or an array of 1 to 200"},
    {R"({"features":[]})", "\"features\": must be \"auto\" or an array"},
    {R"({"features":{"title":true}})", "\"features\": must be \"auto\" or an array"},
    {R"({"features":["title","source",3]})", "\"features[2]\": must be a feature name"},
    {R"({"features":["title","source","events.demo","foo"]})",
     "\"features[3]\": 'foo' is not a feature: use a text field, source, status, "
     "attributes.<key>, events.<type> or tags.<tag>"},
    {R"({"features":["attributes."]})", "\"features[0]\": 'attributes.' is not a feature"},
    {R"({"features":["title","status"]})",
     "\"features[1]\": 'status' is the label; a model cannot learn from its own label"},
    {R"({"label":{"field":"attributes.plan","positive":"Pro","negative":"Free"},
         "features":["status","attributes.plan"]})",
     "\"features[1]\": 'attributes.plan' is the label"},
    {R"({"features":["title","source","title"]})", "\"features[2]\": 'title' is listed twice"},
    {R"({"holdout":"0.2"})", "\"holdout\": must be a number from 0 to 0.9"},
    {R"({"holdout":0.95})", "\"holdout\": must be a number from 0 to 0.9"},
    {R"({"holdout":-0.1})", "\"holdout\": must be a number from 0 to 0.9"},
    {R"({"max_levels":0})", "\"max_levels\": must be an integer from 1 to 100"},
    {R"({"max_levels":101})", "\"max_levels\": must be an integer from 1 to 100"},
    {R"({"max_levels":2.5})", "\"max_levels\": must be an integer from 1 to 100"},
    {R"({"max_levels":null})", "\"max_levels\": must be an integer from 1 to 100"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.body);
    auto p = failure(r.body);
    CHECK(p.code == errc::invalid_field);
    CHECK(p.detail.substr(0, std::string_view{r.detail_start}.size()) == r.detail_start);
  }
}

TEST_CASE("features: lists longer than the limits are refused") {
  std::string features = "[", values = "[";
  for (int i = 0; i < 201; ++i) {
    features += (i ? ",\"tags.t" : "\"tags.t") + std::to_string(i) + "\"";
    values += (i ? ",\"v" : "\"v") + std::to_string(i) + "\"";
  }
  features += "]";
  values += "]";
  auto p = failure(R"({"features":)" + features + "}");
  CHECK(p.code == errc::invalid_field);
  CHECK(p.detail.starts_with("\"features\": must be \"auto\" or an array of 1 to 200"));
  p = failure(R"({"label":{"field":"title","positive":)" + values + R"(,"negative":"x"}})");
  CHECK(p.detail.starts_with("\"label.positive\": must be a value or an array of 1 to 100"));
  p = failure(R"({"label":{"field":"title","positive":")" + std::string(201, 'a') +
              R"(","negative":"x"}})");
  CHECK(p.detail == "\"label.positive\": must be 1 to 200 characters");
}
