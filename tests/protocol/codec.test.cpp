#include <doctest/doctest.h>

#include "protocol/codec.hpp"
#include "protocol/score.hpp"

using namespace hotlead;

namespace {

lead sample() {
  lead l;
  l.id = 0x1122334455667788ULL;
  l.org = 42;
  l.texts.assign({"crm-1", "ada@example.com", "Ada", "Lovelace", "Analytical Engines Ltd",
                  "CTO", "+44 20", "rep-7"});
  l.source = intern("webinar");
  l.status = lead_status::qualified;
  l.tags = {intern("vip"), intern("eu")};
  l.attributes = {{intern("employees"), 250.5}, {intern("trial"), true},
                  {intern("plan"), std::string{"pro"}}};
  l.created_at = 1795000000000;
  l.updated_at = 1795000001000;
  for (int i = 0; i < 20; ++i)
    record_event(l, {i % 3 ? "page_view" : "email_open", 1795000000000 + i * 1000, "{}"});
  l.model_version = 3;
  l.history_seq = 17;
  l.scored_total = -1250;
  l.engagement = {{0, 12.75f, 1795000019, 20775, 1500}, {4, 0.001f, 1795000010, 0, 0}};
  return l;
}

} // namespace

TEST_CASE("a lead survives encode and decode unchanged") {
  auto l = sample();
  std::string bytes;
  encode(bytes, l);
  lead back;
  REQUIRE(decode(bytes, back));
  CHECK(back.id == l.id);
  CHECK(back.org == l.org);
  for (size_t i = 0; i < text_count; ++i)
    CHECK(back.get(static_cast<text>(i)) == l.get(static_cast<text>(i)));
  CHECK(back.email() == "ada@example.com");
  CHECK(back.get(text::company) == "Analytical Engines Ltd");
  CHECK(back.source == l.source);
  CHECK(back.status == l.status);
  CHECK(back.tags == l.tags);
  REQUIRE(back.attributes.size() == 3);
  CHECK(back.attributes[0].value == attr_value{250.5});
  CHECK(back.attributes[1].value == attr_value{true});
  CHECK(back.attributes[2].value == attr_value{std::string{"pro"}});
  CHECK(back.event_seq == 20);
  REQUIRE(back.counters.size() == 2);
  CHECK(back.counters[0].count + back.counters[1].count == 20);
  CHECK(back.model_version == 3);
  CHECK(back.history_seq == 17);
  CHECK(back.scored_total == -1250);
  REQUIRE(back.engagement.size() == 2);
  CHECK(back.engagement[0].rule == 0);
  CHECK(back.engagement[0].value == 12.75f);
  CHECK(back.engagement[0].ref == 1795000019u);
  CHECK(back.engagement[0].window == 20775u);
  CHECK(back.engagement[0].earned == 1500);
  CHECK(back.engagement[1].rule == 4);
  CHECK(back.engagement[1].value == 0.001f);
  CHECK(back.last_activity_at == l.last_activity_at);
}

TEST_CASE("truncated or corrupt lead records are rejected, never half-read") {
  std::string bytes;
  encode(bytes, sample());
  lead back;
  for (size_t cut = 0; cut < bytes.size(); cut += 7)
    CHECK_FALSE(decode(std::string_view{bytes}.substr(0, cut), back));
  auto wrong_version = bytes;
  wrong_version[0] = 9;
  CHECK_FALSE(decode(wrong_version, back));
  CHECK_FALSE(decode(bytes + "x", back));
}

TEST_CASE("text fields set, copy and clear independently") {
  lead l;
  CHECK(l.email().empty());
  CHECK(l.texts.heap_bytes() == 0);
  l.set(text::title, "CTO");
  l.set(text::email, "a@b.co");
  l.set(text::title, l.get(text::title)); // a view into its own block
  CHECK(l.get(text::title) == "CTO");
  CHECK(l.email() == "a@b.co");
  lead copy = l;
  l.set(text::email, "");
  CHECK(copy.email() == "a@b.co");
  CHECK(l.email().empty());
  CHECK(l.get(text::title) == "CTO");
  l.set(text::title, "");
  CHECK(l.texts.heap_bytes() == 0);
}

TEST_CASE("orgs and keys round-trip") {
  org o{7, "Acme", "software", "pro", 1795000000000};
  std::string b;
  encode(b, o);
  org o2;
  REQUIRE(decode(b, o2));
  CHECK(o2.name == "Acme");
  CHECK(o2.created_at == o.created_at);
  api_key k{"abc123", 9, 7, role::manager, "bot", 1795000000000};
  std::string kb;
  encode(kb, k);
  api_key k2;
  REQUIRE(decode(kb, k2));
  CHECK(k2.hash == "abc123");
  CHECK(k2.key_role == role::manager);
  CHECK(k2.org == 7);
}

TEST_CASE("a lead with 8 fields, 5 attributes and 20 events stays compact") {
  auto l = sample();
  lead_patch p;
  p.attributes.emplace_back("region", std::string{"emea"});
  p.attributes.emplace_back("score_hint", 3.0);
  apply(l, p); // the server's path: 5 attributes now
  REQUIRE(l.attributes.size() == 5);
  // The in-memory footprint is what the 1 KiB/lead budget is about.
  MESSAGE("footprint of a typical lead: " << footprint(l) << " bytes, sizeof(lead) = "
                                          << sizeof(lead));
  CHECK(footprint(l) < 1024);
}

TEST_CASE("a score record overlays a lead's score state at the same event_seq only") {
  auto l = sample();
  l.history_seq = 40;
  l.model_version = 5;
  l.scored_total = 7325;
  l.engagement = {{2, 3.5f, 1795000100, 20776, 350}};
  std::string bytes;
  encode_score_state(bytes, l);
  CHECK(bytes.size() < 40); // the point: tens of bytes, not the ~450 of a lead record

  auto stored = sample(); // the older record, same event_seq
  REQUIRE(decode_score_state(bytes, stored));
  CHECK(stored.model_version == 5);
  CHECK(stored.history_seq == 40);
  CHECK(stored.scored_total == 7325);
  REQUIRE(stored.engagement.size() == 1);
  CHECK(stored.engagement[0].rule == 2);
  CHECK(stored.engagement[0].value == 3.5f);
  CHECK(stored.engagement[0].earned == 350);
  CHECK(stored.get(text::email) == "ada@example.com"); // the rest is the record's

  auto other = sample();
  record_event(other, {"page_view", 1795000030000, "{}"}); // a record at another event_seq
  auto before = other.engagement.size();
  CHECK_FALSE(decode_score_state(bytes, other));
  CHECK(other.model_version == 3); // unchanged
  CHECK(other.engagement.size() == before);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto fresh = sample();
    CHECK_FALSE(decode_score_state(std::string_view{bytes}.substr(0, cut), fresh));
    CHECK(fresh.model_version == 3);
  }
  CHECK_FALSE(decode_score_state(bytes + "x", stored));
}

TEST_CASE("a stored history entry reads back as the JSON of write_history_entry") {
  score s;
  s.total = 4550;
  s.fit = 4000;
  s.engagement = 550;
  s.grade = 'C';
  std::string expected;
  write_history_entry(expected, 1795000000123, score_cause::model_change, "version 4", s, -275,
                      4);
  std::string bytes;
  encode_history(bytes, 1795000000123, score_cause::model_change, "version 4", s, -275, 4);
  CHECK(bytes.size() < 40);
  std::string json;
  REQUIRE(history_json(bytes, json));
  CHECK(json == expected);
  CHECK(json.find("\"cause\":\"model_change\"") != std::string::npos);
  CHECK(json.find("\"delta\":-2.75") != std::string::npos);

  std::string legacy; // entries stored as JSON before the binary form
  REQUIRE(history_json(expected, legacy));
  CHECK(legacy == expected);

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::string out;
    CHECK_FALSE(history_json(std::string_view{bytes}.substr(0, cut), out));
  }
  auto bad_cause = bytes; // version byte, `at` as a 6-byte varint, then the cause
  REQUIRE(bad_cause[1 + 6] == static_cast<char>(score_cause::model_change));
  bad_cause[1 + 6] = 99;
  std::string out;
  CHECK_FALSE(history_json(bad_cause, out));
}
