#include <doctest/doctest.h>

#include "protocol/json_in.hpp"

using namespace hotlead;

namespace {

std::optional<problem> lead_body(std::string_view body, lead_patch& p, bool patch = false) {
  return parse_lead(body, patch, limits{}, p);
}

errc code_of(std::string_view body, bool patch = false) {
  lead_patch p;
  auto err = lead_body(body, p, patch);
  return err ? err->code : errc::none;
}

} // namespace

TEST_CASE("a full lead body parses into a patch") {
  lead_patch p;
  auto err = lead_body(R"({"email":" Ada@Example.COM","external_id":"crm-1","first_name":"Ada",
    "status":"qualified","tags":["vip","vip","eu"],"phone":"+44 (20) 7946-0000",
    "attributes":{"employees":250,"trial":true,"plan":"pro"}})",
                       p);
  REQUIRE_FALSE(err);
  CHECK(p.email.value == "ada@example.com");
  CHECK(p.external_id.value == "crm-1");
  CHECK(p.status.value == lead_status::qualified);
  CHECK(p.tags.value.size() == 3);
  REQUIRE(p.attributes.size() == 3);
  CHECK(std::get<double>(*p.attributes[0].second) == 250);
  CHECK(std::get<bool>(*p.attributes[1].second) == true);
  lead l;
  apply(l, p);
  CHECK(l.tags.size() == 2); // duplicates collapse
}

TEST_CASE("a create without status leaves it unset: new for a new lead, kept by an upsert") {
  lead_patch p;
  REQUIRE_FALSE(lead_body("{}", p));
  CHECK_FALSE(p.status.present);
  lead fresh;
  apply(fresh, p);
  CHECK(fresh.status == lead_status::new_);
  lead known;
  known.status = lead_status::qualified;
  apply(known, p);
  CHECK(known.status == lead_status::qualified);
}

TEST_CASE("bad lead bodies name the field and the rule") {
  lead_patch p;
  auto err = lead_body(R"({"email":"not-an-email"})", p);
  REQUIRE(err);
  CHECK(err->code == errc::invalid_field);
  CHECK(err->detail == "field 'email' must look like name@example.com (got 'not-an-email')");

  CHECK(code_of("{") == errc::malformed_json);
  CHECK(code_of("[1,2]") == errc::malformed_json);
  CHECK(code_of("") == errc::malformed_json);
  CHECK(code_of(R"({"emial":"a@b.co"})") == errc::unknown_field);
  CHECK(code_of(R"({"first_name":42})") == errc::invalid_field);
  CHECK(code_of(R"({"status":"won"})") == errc::invalid_field);
  CHECK(code_of(R"({"phone":"call me"})") == errc::invalid_field);
  CHECK(code_of(R"({"tags":"vip"})") == errc::invalid_field);
  CHECK(code_of(R"({"tags":[""]})") == errc::invalid_field);
  CHECK(code_of(R"({"attributes":{"bad key":1}})") == errc::invalid_field);
  CHECK(code_of(R"({"attributes":{"k":[1]}})") == errc::invalid_field);
  CHECK(code_of(R"({"attributes":{"k":null}})") == errc::invalid_field);
  CHECK(code_of(R"({"attributes":{"k":null}})", true) == errc::none);
  CHECK(code_of(R"({"external_id":""})") == errc::invalid_field);
  CHECK(code_of(R"({"company":")" + std::string(257, 'x') + "\"}") == errc::invalid_field);
  CHECK(code_of(R"({"title":"a\nb"})") == errc::invalid_field);
}

TEST_CASE("a bad attribute value names its attribute") {
  auto detail = [](std::string_view body, bool patch = false) {
    lead_patch p;
    auto err = lead_body(body, p, patch);
    return err ? err->detail : std::string{};
  };
  CHECK(detail(R"({"attributes":{"employees_count":[1]}})") ==
        "field 'attributes.employees_count' must be a string, number or bool");
  CHECK(detail(R"({"attributes":{"plan":null}})").starts_with(
    "field 'attributes.plan' must be a string, number or bool (null only removes it in PATCH)"));
  CHECK(detail(R"({"attributes":{"note":")" + std::string(limits{}.max_attr_string + 1, 'x') +
               "\"}}") == "field 'attributes.note' is longer than " +
                            std::to_string(limits{}.max_attr_string) + " characters");
}

TEST_CASE("attribute and tag counts are limited") {
  std::string attrs = "{\"attributes\":{";
  for (int i = 0; i < 65; ++i)
    attrs += (i ? "," : "") + std::string{"\"a"} + std::to_string(i) + "\":1";
  attrs += "}}";
  CHECK(code_of(attrs) == errc::invalid_field);
  std::string tags = "{\"tags\":[";
  for (int i = 0; i < 33; ++i)
    tags += (i ? "," : "") + std::string{"\"t"} + std::to_string(i) + "\"";
  tags += "]}";
  CHECK(code_of(tags) == errc::invalid_field);
}

TEST_CASE("a patch distinguishes absent, null and a value") {
  lead_patch p;
  REQUIRE_FALSE(lead_body(R"({"company":null,"title":"CTO"})", p, true));
  CHECK_FALSE(p.email.present);
  CHECK(p.company.present);
  CHECK(p.company.null);
  CHECK(p.title.value == "CTO");
  lead l;
  l.set(text::company, "Acme");
  l.set(text::email, "x@y.io");
  CHECK(apply(l, p));
  CHECK(l.get(text::company).empty());
  CHECK(l.email() == "x@y.io");
  CHECK_FALSE(apply(l, p)); // same patch again changes nothing
}

TEST_CASE("events parse with defaults and bounds on ts") {
  millis now = 1795000000000;
  event_input ev;
  REQUIRE_FALSE(parse_event(R"({"type":"page_view"})", limits{}, now, ev));
  CHECK(ev.ts == now);
  CHECK(ev.properties_json == "{}");
  event_input ev2;
  REQUIRE_FALSE(parse_event(R"({"type":"email_open","ts":"2026-11-18T08:00:00Z",
    "properties":{"campaign": "fall" }})",
                            limits{}, now, ev2));
  CHECK(ev2.properties_json == R"({"campaign":"fall"})");
  event_input ev3;
  REQUIRE_FALSE(parse_event(R"({"type":"x","ts":1795000000000})", limits{}, now, ev3));
  CHECK(ev3.ts == 1795000000000);
  auto code = [&](std::string_view body) {
    event_input e;
    auto p = parse_event(body, limits{}, now, e);
    return p ? p->code : errc::none;
  };
  CHECK(code(R"({"ts":"2026-11-18T08:00:00Z"})") == errc::missing_field);
  CHECK(code(R"({"type":"x","ts":"2099-01-01T00:00:00Z"})") == errc::invalid_field);
  CHECK(code(R"({"type":"x","ts":"1999-12-31T00:00:00Z"})") == errc::invalid_field);
  CHECK(code(R"({"type":"x","properties":[1]})") == errc::invalid_field);
  CHECK(code(R"({"type":"x","lead_id":"0123456789abcdef"})") == errc::unknown_field);
  CHECK(code(R"({"type":""})") == errc::invalid_field);
}

TEST_CASE("a batch reports each bad item and keeps the good ones") {
  std::vector<batch_item> items;
  auto err = parse_event_batch(R"([{"lead_id":"0123456789abcdef","type":"a"},
    {"lead_id":"xyz","type":"a"}, 7, {"lead_id":"0123456789abcdef"}])",
                               false, limits{}, 1795000000000, items);
  REQUIRE_FALSE(err);
  REQUIRE(items.size() == 4);
  CHECK_FALSE(items[0].error);
  CHECK(items[0].lead_id == 0x0123456789abcdefULL);
  CHECK(items[1].error->code == errc::invalid_field);
  CHECK(items[2].error->code == errc::invalid_field);
  CHECK(items[3].error->code == errc::missing_field);
}

TEST_CASE("an NDJSON batch numbers its non-empty lines") {
  std::vector<batch_item> items;
  auto err = parse_event_batch("{\"lead_id\":\"0123456789abcdef\",\"type\":\"a\"}\n\n{oops\r\n"
                               "{\"lead_id\":\"0123456789abcdef\",\"type\":\"b\"}",
                               true, limits{}, 1795000000000, items);
  REQUIRE_FALSE(err);
  REQUIRE(items.size() == 3);
  CHECK(items[1].index == 1);
  CHECK(items[1].error->code == errc::malformed_json);
  CHECK(items[2].event.type == "b");
  std::vector<batch_item> none;
  CHECK(parse_event_batch("{\"a\":1}", false, limits{}, 0, none)->code == errc::malformed_json);
  CHECK(parse_event_batch("\n\n", true, limits{}, 0, none)->code == errc::invalid_request);
}

TEST_CASE("org and key requests are validated") {
  org o;
  CHECK_FALSE(parse_org(R"({"name":"Acme","plan":"pro"})", o));
  CHECK(o.plan == "pro");
  org o2;
  CHECK(parse_org(R"({"industry":"x"})", o2)->code == errc::missing_field);
  CHECK(parse_org(R"({"name":"A","plan":"gold"})", o2)->code == errc::invalid_field);
  role r{};
  std::string name;
  CHECK_FALSE(parse_key_request(R"({"role":"sales_rep","name":"bot"})", r, name));
  CHECK(r == role::sales_rep);
  CHECK(parse_key_request(R"({"role":"root"})", r, name)->code == errc::invalid_field);
  CHECK(parse_key_request(R"({})", r, name)->code == errc::missing_field);
}

TEST_CASE("emails normalize to lower case and reject odd shapes") {
  CHECK(normalize_email("Ada.Lovelace+crm@Example.co.uk") == "ada.lovelace+crm@example.co.uk");
  for (auto bad : {"a@b", "@b.co", "a@@b.co", "a b@c.co", "a@.co", "a@b.", "ab.co", "a@b..co"})
    CHECK_MESSAGE(!normalize_email(bad), bad);
}
