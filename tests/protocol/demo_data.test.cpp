#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_set>

#include "protocol/demo_data.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"

using namespace hotlead;

namespace {

constexpr millis fixed_now = 1795000000000; // 2026-11-18T11:06:40Z

demo_options at(uint64_t seed = 42, millis now = fixed_now) {
  demo_options o;
  o.seed = seed;
  o.now = now;
  return o;
}

/// The POST /v1/leads body that carries a patch.
std::string create_body(const lead_patch& p) {
  std::string b = "{";
  auto key = [&](std::string_view name) {
    if (b.size() > 1)
      b += ',';
    append_json_string(b, name);
    b += ':';
  };
  auto text = [&](std::string_view name, const field<std::string>& f) {
    if (f.has_value()) {
      key(name);
      append_json_string(b, f.value);
    }
  };
  text("email", p.email);
  text("external_id", p.external_id);
  text("first_name", p.first_name);
  text("last_name", p.last_name);
  text("company", p.company);
  text("title", p.title);
  text("phone", p.phone);
  text("owner", p.owner);
  text("source", p.source);
  if (p.status.has_value()) {
    key("status");
    append_json_string(b, to_string(p.status.value));
  }
  if (p.tags.has_value()) {
    key("tags");
    b += '[';
    for (size_t k = 0; k < p.tags.value.size(); ++k) {
      if (k)
        b += ',';
      append_json_string(b, p.tags.value[k]);
    }
    b += ']';
  }
  key("attributes");
  b += '{';
  for (size_t k = 0; k < p.attributes.size(); ++k) {
    auto& [name, v] = p.attributes[k];
    if (k)
      b += ',';
    append_json_string(b, name);
    b += ':';
    if (!v)
      b += "null";
    else if (auto* s = std::get_if<std::string>(&*v))
      append_json_string(b, *s);
    else if (auto* d = std::get_if<double>(&*v))
      append_json_number(b, *d);
    else
      b += std::get<bool>(*v) ? "true" : "false";
  }
  return b + "}}";
}

/// The POST /v1/leads/{id}/events body that carries an event.
std::string event_body(const event_input& e) {
  std::string b = "{\"type\":";
  append_json_string(b, e.type);
  b += ",\"ts\":" + std::to_string(e.ts) + ",\"properties\":" + e.properties_json + "}";
  return b;
}

std::string everything(const demo_lead& d) {
  std::string s = create_body(d.patch) + "\n" + std::to_string(d.first_seen);
  for (auto& e : d.events)
    s += "\n" + event_body(e);
  return s;
}

const attr_value* attribute_of(const lead_patch& p, std::string_view key) {
  for (auto& [k, v] : p.attributes)
    if (k == key && v)
      return &*v;
  return nullptr;
}

size_t count_type(const demo_lead& d, std::string_view type) {
  return size_t(std::count_if(d.events.begin(), d.events.end(),
                              [&](auto& e) { return e.type == type; }));
}

} // namespace

TEST_CASE("the same seed, index and time give the same lead and events") {
  for (uint64_t i : {0ULL, 1ULL, 17ULL, 16384ULL, 987654321ULL}) {
    auto a = make_demo_lead(i, at());
    auto b = make_demo_lead(i, at());
    CHECK(everything(a) == everything(b));
  }
  // Generating out of order (in chunks, in parallel) changes nothing.
  std::vector<std::string> forward, backward(100);
  for (uint64_t i = 0; i < 100; ++i)
    forward.push_back(everything(make_demo_lead(i, at())));
  for (uint64_t i = 100; i-- > 0;)
    backward[i] = everything(make_demo_lead(i, at()));
  CHECK(forward == backward);
}

TEST_CASE("another seed gives other leads") {
  size_t same = 0;
  for (uint64_t i = 0; i < 100; ++i)
    same += make_demo_lead(i, at(1)).patch.email.value == make_demo_lead(i, at(2)).patch.email.value;
  CHECK(same < 5);
}

TEST_CASE("leads of one seed have distinct lower-case e-mails, also past 16,384 name pairs") {
  std::unordered_set<std::string> emails;
  size_t numbered = 0, free_mail = 0;
  for (uint64_t i = 0; i < 40000; ++i) {
    auto d = make_demo_lead(i, at());
    const auto& e = d.patch.email.value;
    REQUIRE(d.patch.email.has_value());
    CHECK(std::none_of(e.begin(), e.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
    CHECK_MESSAGE(emails.insert(e).second, e);
    auto at_sign = e.find('@');
    numbered += std::isdigit(static_cast<unsigned char>(e[at_sign - 1])) != 0;
    auto domain = e.substr(at_sign + 1);
    free_mail += domain == "gmail.com" || domain == "outlook.com" || domain == "yahoo.com" ||
                 domain == "icloud.com" || domain == "proton.me";
  }
  CHECK(emails.size() == 40000);
  CHECK(numbered == 40000 - 16384); // a number only once the name pairs are used up
  CHECK(free_mail > 400);           // a small share of free-mail addresses
  CHECK(free_mail < 6000);
}

TEST_CASE("about 15% of leads convert, 10% are lost and a lead has about 6 events") {
  size_t converted = 0, lost = 0, events = 0, most = 0, unsubscribed = 0;
  constexpr size_t n = 10000;
  for (uint64_t i = 0; i < n; ++i) {
    auto d = make_demo_lead(i, at());
    converted += d.patch.status.value == lead_status::converted;
    lost += d.patch.status.value == lead_status::lost;
    events += d.events.size();
    most = std::max(most, d.events.size());
    unsubscribed += count_type(d, "unsubscribe") > 0;
    CHECK(d.patch.tags.value.size() <= 3);
  }
  CHECK(converted > n * 10 / 100);
  CHECK(converted < n * 20 / 100);
  CHECK(lost > n * 5 / 100);
  CHECK(lost < n * 15 / 100);
  CHECK(double(events) / n > 3);
  CHECK(double(events) / n < 10);
  CHECK(most <= 40);
  CHECK(unsubscribed < n * 5 / 100);
}

TEST_CASE("converted leads show more demo requests and work at bigger companies than lost ones") {
  double demos[2] = {}, employees[2] = {}, leads[2] = {};
  for (uint64_t i = 0; i < 10000; ++i) {
    auto d = make_demo_lead(i, at());
    auto s = d.patch.status.value;
    if (s != lead_status::converted && s != lead_status::lost)
      continue;
    int k = s == lead_status::converted;
    leads[k] += 1;
    demos[k] += double(count_type(d, "demo_request"));
    auto* emp = attribute_of(d.patch, "employees");
    REQUIRE(emp);
    employees[k] += std::get<double>(*emp);
  }
  CHECK(demos[1] / leads[1] > 2 * demos[0] / leads[0]);
  CHECK(employees[1] / leads[1] > 1.5 * employees[0] / leads[0]);
}

TEST_CASE("referral and webinar leads convert more often than cold outreach") {
  std::map<std::string, std::pair<double, double>> by_source; // converted, all
  for (uint64_t i = 0; i < 20000; ++i) {
    auto d = make_demo_lead(i, at());
    auto& [conv, all] = by_source[d.patch.source.value];
    conv += d.patch.status.value == lead_status::converted;
    all += 1;
  }
  REQUIRE(by_source.size() == 7);
  auto rate = [&](const std::string& s) { return by_source[s].first / by_source[s].second; };
  CHECK(rate("Referral") > 2 * rate("Cold Outreach"));
  CHECK(rate("Webinar") > 2 * rate("Cold Outreach"));
}

TEST_CASE("every lead passes the validation of POST /v1/leads unchanged") {
  for (uint64_t i = 0; i < 10000; ++i) {
    auto d = make_demo_lead(i, at());
    auto body = create_body(d.patch);
    lead_patch parsed;
    auto err = parse_lead(body, false, limits{}, parsed);
    REQUIRE_MESSAGE(!err, body, " -> ", err->detail);
    CHECK(create_body(parsed) == body);
    CHECK(d.patch.status.has_value());
    CHECK(d.patch.source.has_value());
    for (auto key : {"employees", "industry", "country", "plan_interest", "trial"})
      CHECK_MESSAGE(attribute_of(d.patch, key), key);
  }
}

TEST_CASE("every event passes the validation of POST /v1/leads/{id}/events, oldest first, "
          "within the last 90 days") {
  const std::vector<std::string> types = {"page_view", "email_open",   "email_click",
                                          "form_submit", "webinar",    "demo_request",
                                          "unsubscribe"};
  for (uint64_t i = 0; i < 10000; ++i) {
    auto d = make_demo_lead(i, at());
    CHECK(d.first_seen >= fixed_now - demo_window);
    CHECK(d.first_seen <= fixed_now);
    millis last = d.first_seen;
    for (auto& e : d.events) {
      CHECK(std::find(types.begin(), types.end(), e.type) != types.end());
      CHECK(e.ts >= last);
      CHECK(e.ts <= fixed_now);
      last = e.ts;
      event_input parsed;
      auto err = parse_event(event_body(e), limits{}, fixed_now, parsed);
      REQUIRE_MESSAGE(!err, event_body(e), " -> ", err->detail);
      CHECK(parsed.type == e.type);
      CHECK(parsed.ts == e.ts);
      CHECK(parsed.properties_json == e.properties_json); // an object, minified
    }
  }
}

TEST_CASE("a pricing view is a page view of /pricing") {
  size_t pricing = 0;
  for (uint64_t i = 0; i < 1000; ++i)
    for (auto& e : make_demo_lead(i, at()).events)
      if (e.properties_json.find("/pricing") != std::string::npos) {
        CHECK(e.type == "page_view");
        CHECK(e.properties_json == R"({"path":"/pricing"})");
        ++pricing;
      }
  CHECK(pricing > 100);
}

TEST_CASE("without a time, leads are made relative to the current time") {
  millis before = now_ms();
  auto d = make_demo_lead(3, at(42, 0));
  millis after = now_ms();
  CHECK(d.first_seen >= before - demo_window);
  for (auto& e : d.events)
    CHECK(e.ts <= after);
  // With the time fixed to that of the call, the lead is the same apart
  // from the shift in time.
  auto fixed = make_demo_lead(3, at(42, before));
  CHECK(create_body(fixed.patch) == create_body(d.patch));
  CHECK(fixed.events.size() == d.events.size());
}
