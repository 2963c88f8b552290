// The rule engine: each predicate on each kind of field, decay arithmetic,
// caps, late events, the clamp, grade edges, and factors that add up exactly
// on random leads and models.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "protocol/intern.hpp"
#include "protocol/score.hpp"

using namespace hotlead;

namespace {

constexpr millis day = 86'400'000;
constexpr millis t0 = 1'700'000'000'000; // a fixed instant

scoring_model model_of(std::string_view json) {
  scoring_model m;
  auto e = parse_scoring_model(json, m);
  REQUIRE_MESSAGE(!e, (e ? e->detail : ""));
  return m;
}

lead sample_lead() {
  lead l;
  l.set(text::email, "ada@example.com");
  l.set(text::title, "Chief Revenue Officer");
  l.source = intern("Referral");
  l.status = lead_status::qualified;
  l.tags = {intern("vip"), intern("emea")};
  l.attributes = {{intern("employees"), 120.0}, {intern("plan"), std::string{"Pro"}},
                  {intern("trial"), true}};
  return l;
}

bool matches(std::string_view rule_json) {
  auto m = model_of(std::string{R"({"fit":[)"} + std::string{rule_json} + "]}");
  return fit_matches(m.fit.at(0), sample_lead());
}

centipoints sum(const score& s, factor_kind k) {
  centipoints t = 0;
  for (auto& f : s.factors)
    if (f.kind == k)
      t += f.points;
  return t;
}

} // namespace

TEST_CASE("fit predicates on text fields, source, status, tags and attributes") {
  CHECK(matches(R"({"id":"a","field":"title","op":"contains","value":"revenue","points":1})"));
  CHECK(matches(R"({"id":"a","field":"title","op":"prefix","value":"CHIEF","points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"title","op":"prefix","value":"revenue","points":1})"));
  CHECK(matches(R"({"id":"a","field":"title","op":"not_contains","value":"intern","points":1})"));
  CHECK(matches(R"({"id":"a","field":"email","op":"equals","value":"ADA@example.com","points":1})"));
  CHECK(matches(R"({"id":"a","field":"email","op":"exists","points":1})"));
  CHECK(matches(R"({"id":"a","field":"phone","op":"not_exists","points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"phone","op":"exists","points":1})"));
  CHECK(matches(R"({"id":"a","field":"source","op":"in","values":["ads","referral"],"points":1})"));
  CHECK(matches(R"({"id":"a","field":"status","op":"equals","value":"qualified","points":1})"));
  CHECK(matches(R"({"id":"a","field":"status","op":"not_in","values":["lost","converted"],"points":1})"));
  CHECK(matches(R"({"id":"a","field":"tags","op":"equals","value":"VIP","points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"tags","op":"in","values":["apac"],"points":1})"));
  CHECK(matches(R"({"id":"a","field":"tags","op":"prefix","value":"em","points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.employees","op":"range","min":100,"max":120,"points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"attributes.employees","op":"range","min":121,"points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.employees","op":"not_range","max":50,"points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.employees","op":"equals","value":120,"points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"attributes.employees","op":"equals","value":"120","points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.plan","op":"in","values":["pro","team"],"points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"attributes.plan","op":"range","min":1,"points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.trial","op":"equals","value":true,"points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.missing","op":"not_exists","points":1})"));
  CHECK(matches(R"({"id":"a","field":"attributes.missing","op":"not_equals","value":1,"points":1})"));
  CHECK_FALSE(matches(R"({"id":"a","field":"attributes.missing","op":"equals","value":1,"points":1})"));
}

TEST_CASE("engagement decays by its half-life; a read now reflects the decay up to now") {
  auto m = model_of(R"({"engagement":[{"id":"demo","event":"demo_request","points":10,"half_life_days":1}]})");
  std::vector<engagement_state> st;
  record_engagement(m, st, "demo_request", t0, nullptr);
  record_engagement(m, st, "page_view", t0, nullptr); // no rule: nothing
  REQUIRE(st.size() == 1);
  CHECK(engagement_points(m.engagement[0], st[0], t0) == 1000);
  CHECK(engagement_points(m.engagement[0], st[0], t0 + day) == 500);
  CHECK(engagement_points(m.engagement[0], st[0], t0 + 2 * day) == 250);
  CHECK(engagement_points(m.engagement[0], st[0], t0 + day / 2) == 707); // 10 / sqrt(2)
  // A second event a day later: 5 left of the first, plus 10.
  record_engagement(m, st, "demo_request", t0 + day, nullptr);
  CHECK(engagement_points(m.engagement[0], st[0], t0 + day) == 1500);
  // A late event (half a day before the last one) decays forward from its own time.
  record_engagement(m, st, "demo_request", t0 + day / 2, nullptr);
  CHECK(engagement_points(m.engagement[0], st[0], t0 + day) == 1500 + 707);
}

TEST_CASE("a cap limits the points per window; the next window starts again") {
  auto m = model_of(R"({"engagement":[{"id":"pv","event":"page_view","points":1,
                       "cap":{"points":3,"window_days":1}}]})");
  std::vector<engagement_state> st;
  millis day_start = (t0 / day) * day;
  for (int i = 0; i < 5; ++i)
    record_engagement(m, st, "page_view", day_start + i * 1000, nullptr);
  CHECK(engagement_points(m.engagement[0], st[0], day_start + 5000) == 300);
  record_engagement(m, st, "page_view", day_start + day, nullptr);
  CHECK(engagement_points(m.engagement[0], st[0], day_start + day) == 400);
}

TEST_CASE("an engagement rule's property filter") {
  auto m = model_of(R"({"engagement":[{"id":"pricing","event":"page_view","points":5,
                       "where":{"property":"path","op":"prefix","value":"/pricing"}}]})");
  std::vector<engagement_state> st;
  auto path = [](std::string p) {
    return [p](std::string_view name) -> std::optional<attr_value> {
      if (name == "path")
        return p;
      return std::nullopt;
    };
  };
  record_engagement(m, st, "page_view", t0, path("/blog/x"));
  CHECK(st.empty());
  record_engagement(m, st, "page_view", t0, nullptr);
  CHECK(st.empty());
  record_engagement(m, st, "page_view", t0, path("/Pricing/team"));
  REQUIRE(st.size() == 1);
  CHECK(engagement_points(m.engagement[0], st[0], t0) == 500);
}

TEST_CASE("the clamp is a factor of its own; grades at their thresholds") {
  auto m = model_of(R"({"fit":[{"id":"big","field":"email","op":"exists","points":70},
                              {"id":"more","field":"title","op":"exists","points":50}],
                       "grades":{"A":80,"B":60,"C":40},"bounds":{"min":0,"max":100}})");
  auto s = score_of(m, sample_lead(), {}, t0);
  CHECK(s.fit == 12000);
  CHECK(s.total == 10000);
  REQUIRE(s.factors.size() == 3);
  CHECK(s.factors[2].kind == factor_kind::bound);
  CHECK(s.factors[2].name == "max");
  CHECK(s.factors[2].points == -2000);
  CHECK(s.grade == 'A');
  auto at = [&](double points) {
    auto g = model_of(std::string{R"({"fit":[{"id":"p","field":"email","op":"exists","points":)"} +
                      std::to_string(points) + R"(}],"grades":{"A":80,"B":60,"C":40}})");
    return score_of(g, sample_lead(), {}, t0).grade;
  };
  CHECK(at(80) == 'A');
  CHECK(at(79.99) == 'B');
  CHECK(at(60) == 'B');
  CHECK(at(40) == 'C');
  CHECK(at(39.99) == 'D');
  auto neg = model_of(R"({"fit":[{"id":"bad","field":"email","op":"exists","points":-30}]})");
  auto n = score_of(neg, sample_lead(), {}, t0);
  CHECK(n.total == 0);
  CHECK(n.factors.back().name == "min");
  CHECK(n.factors.back().points == 3000);
}

TEST_CASE("factors add up exactly to fit, engagement and total on random leads and models") {
  std::mt19937_64 rng{42};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const char* fields[] = {"title", "email", "company", "source", "status", "tags",
                          "attributes.employees", "attributes.plan"};
  const char* events[] = {"page_view", "email_click", "demo_request", "webinar"};
  for (int round = 0; round < 200; ++round) {
    std::string json = R"({"fit":[)";
    int nfit = 1 + pick(8);
    for (int i = 0; i < nfit; ++i) {
      std::string field = fields[pick(8)];
      bool numeric = field == "attributes.employees";
      std::string op = numeric && pick(2) ? R"("op":"range","min":)" + std::to_string(pick(200))
                                         : R"("op":")" + std::string{pick(2) ? "not_" : ""} +
                                             "exists\"";
      json += (i ? "," : "") + std::string{R"({"id":"f)"} + std::to_string(i) +
              R"(","field":")" + field + "\"," + op + R"(,"points":)" +
              std::to_string((pick(4001) - 2000) / 100.0) + "}";
    }
    json += R"(],"engagement":[)";
    int neng = 1 + pick(4);
    for (int i = 0; i < neng; ++i) {
      json += (i ? "," : "") + std::string{R"({"id":"e)"} + std::to_string(i) +
              R"(","event":")" + events[i] + R"(","points":)" +
              std::to_string(pick(3001) / 100.0) + R"(,"half_life_days":)" +
              std::to_string(1 + pick(30)) +
              (pick(2) ? R"(,"cap":{"points":)" + std::to_string(1 + pick(50)) +
                           R"(,"window_days":1})"
                       : std::string{}) +
              "}";
    }
    json += R"(],"bounds":{"min":)" + std::to_string(-pick(50)) + R"(,"max":)" +
            std::to_string(50 + pick(100)) + "}}";
    CAPTURE(json);
    auto m = model_of(json);
    lead l = sample_lead();
    if (pick(2))
      l.set(text::company, "Acme");
    std::vector<engagement_state> st;
    int n = pick(40);
    for (int i = 0; i < n; ++i)
      record_engagement(m, st, events[pick(4)], t0 + static_cast<millis>(pick(30 * 24)) * 3'600'000,
                        nullptr);
    auto s = score_of(m, l, st, t0 + 31 * day);
    CHECK(sum(s, factor_kind::fit) == s.fit);
    CHECK(sum(s, factor_kind::engagement) == s.engagement);
    CHECK(s.fit + s.engagement + sum(s, factor_kind::bound) == s.total);
    CHECK(s.total >= m.min);
    CHECK(s.total <= m.max);
  }
}

TEST_CASE("the score object's JSON") {
  auto m = model_of(R"({"fit":[{"id":"has-email","field":"email","op":"exists","points":12.5},
                              {"id":"big","field":"title","op":"exists","points":95}],
                       "engagement":[{"id":"demo","event":"demo_request","points":7.25}]})");
  std::vector<engagement_state> st;
  record_engagement(m, st, "demo_request", t0, nullptr);
  auto s = score_of(m, sample_lead(), st, t0);
  std::string out;
  write_score(out, s, 3, t0);
  CHECK(out == R"({"total":100,"fit":107.5,"engagement":7.25,"grade":"A","probability":null,)"
               R"("predictive_model":null,"model_version":3,"computed_at":"2023-11-14T22:13:20.000Z","factors":[)"
               R"({"kind":"fit","name":"has-email","points":12.5},)"
               R"({"kind":"fit","name":"big","points":95},)"
               R"({"kind":"engagement","name":"demo","points":7.25},)"
               R"({"kind":"bound","name":"max","points":-14.75}]})");
  out.clear();
  predictive_part p{0.25, 4, 'B', {{factor_kind::predictive, "(intercept)", -110},
                                   {factor_kind::predictive, "source", 12}}};
  write_score(out, s, 3, t0, p);
  CHECK(out.find(R"("probability":0.25,"predictive_model":{"version":4,"arm":"B"},)") !=
        std::string::npos);
  CHECK(out.ends_with(R"({"kind":"bound","name":"max","points":-14.75},)"
                      R"x({"kind":"predictive","name":"(intercept)","points":-1.1},)x"
                      R"({"kind":"predictive","name":"source","points":0.12}]})"));
}

TEST_CASE("a model change carries the state of unchanged engagement rules and marks the rest") {
  auto from = model_of(R"({"engagement":[
    {"id":"demo","event":"demo_request","points":30,"half_life_days":30},
    {"id":"view","event":"page_view","points":1},
    {"id":"click","event":"email_click","points":3}]})");
  // demo renamed but unchanged; view's points changed; click gone; pricing new.
  auto to = model_of(R"({"engagement":[
    {"id":"pricing","event":"page_view","where":{"property":"path","op":"equals","value":"/pricing"},"points":5},
    {"id":"view","event":"page_view","points":2},
    {"id":"demo-request","event":"demo_request","points":30,"half_life_days":30}]})");
  auto map = carry_map(from, to);
  CHECK(map == std::vector<int>{-1, -1, 0});

  lead l;
  for (auto [type, path] : {std::pair{"demo_request", "{}"},
                            std::pair{"page_view", R"({"path":"/pricing"})"},
                            std::pair{"email_click", "{}"}}) {
    event_input ev{type, t0, path};
    record_event(l, ev);
    score_event(from, l, ev);
  }
  REQUIRE(l.engagement.size() == 3);
  carry_state(l.engagement, map);
  REQUIRE(l.engagement.size() == 1); // only demo's state survives, now rule 2
  CHECK(l.engagement[0].rule == 2);
  CHECK(engagement_points(to.engagement[2], l.engagement[0], t0) == 3000);
  auto only = replay_rules(to, map, l);
  CHECK(only == std::vector<bool>{true, true, false}); // both page_view rules, from events

  // The replay rebuilds just the marked rules, with property filters.
  event_input view{"page_view", t0, R"({"path":"/pricing"})"};
  score_event(to, l, view, &only);
  auto s = score_of(to, l, l.engagement, t0);
  CHECK(s.engagement == 3000 + 500 + 200);
  event_input other{"page_view", t0, R"({"path":"/docs"})"};
  score_event(to, l, other, &only);
  CHECK(score_of(to, l, l.engagement, t0).engagement == 3000 + 500 + 400);

  lead quiet; // no events of the new rules' types: nothing to replay
  record_event(quiet, {"demo_request", t0, "{}"});
  CHECK(replay_rules(to, map, quiet).empty());
}
