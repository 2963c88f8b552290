// The change feed: the journal numbers feed ops per org in commit order,
// stores the window in RocksDB and publishes it; the hub reloads it after a
// restart, trims it to the window, and answers resumes with what is left.
#include <doctest/doctest.h>

#include <future>
#include <mutex>

#include "actors/feed_hub.hpp"
#include "persistence/journal.hpp"
#include "persistence/store.hpp"
#include "protocol/feed.hpp"
#include "protocol/json_in.hpp"
#include "tests/support/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace hotlead;
using testing::open_store;
using testing::temp_dir;

namespace {

write_op feed_op(uint64_t org, uint64_t lead, int64_t total) {
  return {write_op::feed, feed_op_key(org, lead, feed_type::lead_updated, total, total - 100),
          "\"type\":\"lead.updated\",\"n\":" + std::to_string(lead)};
}

void write_all(journal& jr, std::vector<std::vector<write_op>> batches) {
  std::vector<std::future<std::optional<problem>>> acks;
  for (auto& ops : batches) {
    auto pr = std::make_shared<std::promise<std::optional<problem>>>();
    acks.push_back(pr->get_future());
    jr.append(std::move(ops), [pr](const std::optional<problem>& e) { pr->set_value(e); });
  }
  for (auto& a : acks)
    REQUIRE_FALSE(a.get());
}

} // namespace

TEST_CASE("feed op keys and message JSON round-trip") {
  feed_message m;
  REQUIRE(decode_feed_op_key(feed_op_key(7, 42, feed_type::lead_deleted, -250, 1200), m));
  CHECK(m.org == 7);
  CHECK(m.lead == 42);
  CHECK(m.type == feed_type::lead_deleted);
  CHECK(m.total == -250);
  CHECK(m.previous == 1200);
  CHECK_FALSE(decode_feed_op_key("short", m));
  CHECK_FALSE(decode_feed_op_key(std::string(33, '\x09'), m)); // not a feed type
  auto json = feed_json(12345, "\"type\":\"lead.created\"");
  CHECK(json == "{\"seq\":12345,\"type\":\"lead.created\"}");
  CHECK(feed_type_name(feed_type::lead_created) == "lead.created");
}

TEST_CASE("the journal numbers each org's feed in commit order and the hub keeps the window") {
  temp_dir dir;
  {
    auto db = open_store(dir.path);
    feed_hub hub{5};
    REQUIRE_FALSE(hub.load(*db));
    journal jr{*db, true};
    std::mutex mtx;
    std::vector<feed_message> seen;
    jr.set_feed({5, hub.heads(), [&](std::vector<feed_message>&& ms) {
                   {
                     std::lock_guard lock{mtx};
                     seen.insert(seen.end(), ms.begin(), ms.end());
                   }
                   hub.publish(std::move(ms));
                 }});
    // org 1: 8 messages (two in one write), org 2: 1; plain puts between
    std::vector<std::vector<write_op>> batches;
    for (uint64_t i = 1; i <= 6; ++i)
      batches.push_back({{write_op::put, "Mx" + std::to_string(i), "v"}, feed_op(1, i, 100 * i)});
    batches.push_back({feed_op(1, 7, 700), feed_op(1, 8, 800)});
    batches.push_back({feed_op(2, 99, 5)});
    write_all(jr, std::move(batches));
    jr.stop();
    std::lock_guard lock{mtx};
    REQUIRE(seen.size() == 9);
    uint64_t expect = 0;
    for (auto& m : seen)
      if (m.org == 1) {
        CHECK(m.seq == ++expect); // no gaps, no repeats, in order
        CHECK(m.total == 100 * static_cast<int64_t>(m.lead));
        CHECK(m.json->starts_with("{\"seq\":" + std::to_string(m.seq) + ","));
      }
    CHECK(expect == 8);
    auto r = hub.since(1, 0);
    CHECK(r.head == 8);
    CHECK(r.oldest == 4); // the window is 5
    REQUIRE(r.messages.size() == 5);
    CHECK(r.messages.front().seq == 4);
    CHECK(hub.since(1, 6).messages.size() == 2);
    CHECK(hub.since(2, 0).head == 1);
    CHECK(hub.since(3, 0).messages.empty());
  }
  // After a restart the window comes back from RocksDB, and numbering goes on.
  auto db = open_store(dir.path);
  feed_hub hub{3}; // a smaller window now: older stored messages are dropped
  REQUIRE_FALSE(hub.load(*db));
  CHECK(hub.heads().at(1) == 8);
  CHECK(hub.heads().at(2) == 1);
  auto r = hub.since(1, 0);
  CHECK(r.oldest == 6);
  REQUIRE(r.messages.size() == 3);
  CHECK(r.messages[0].lead == 6);
  CHECK(r.messages[2].total == 800);
  CHECK(*r.messages[2].json == "{\"seq\":8,\"type\":\"lead.updated\",\"n\":8}");
  journal jr{*db, true};
  jr.set_feed({3, hub.heads(), [&](std::vector<feed_message>&& ms) { hub.publish(std::move(ms)); }});
  write_all(jr, {{feed_op(1, 9, 900)}});
  jr.stop();
  CHECK(hub.head(1) == 9);
  feed_hub again{100};
  REQUIRE_FALSE(again.load(*db));
  CHECK(again.since(1, 0).oldest == 7); // the trimmed ones stay gone
}

TEST_CASE("stream ops parse and name what is wrong") {
  stream_op op;
  REQUIRE_FALSE(parse_stream_op(R"({"op":"subscribe","topic":"leads","resume_from":17})", op));
  CHECK(op.subscribe);
  CHECK(op.topic == "leads");
  CHECK(op.resume_from == 17u);
  REQUIRE_FALSE(parse_stream_op(R"({"op":"unsubscribe","topic":"lead:00000000000000ff"})", op));
  CHECK_FALSE(op.subscribe);
  CHECK(op.lead == 255);
  auto detail = [](std::string_view text) {
    stream_op o;
    auto p = parse_stream_op(text, o);
    return p ? p->detail : std::string{};
  };
  CHECK(detail(R"({"op":"subscribe","topic":"hot"})").starts_with("unknown topic 'hot'"));
  CHECK(detail(R"({"op":"subscribe","topic":"lead:12"})").find("16 hex digits") !=
        std::string::npos);
  CHECK(detail(R"({"op":"subscribe","topic":"leads","resume_from":-1})").find("resume_from") !=
        std::string::npos);
  CHECK(detail(R"({"op":"subscribe","topic":"leads","extra":1})").starts_with("unknown field 'extra'"));
  CHECK(detail(R"({"topic":"leads"})").find("'op' is required") != std::string::npos);
  CHECK_FALSE(detail("[]").empty());
}

TEST_CASE("a score move with no change is sent only when it crosses a watched edge") {
  threshold_rule r{8000, 500}; // 80 points, hysteresis 5
  // down: a view where the lead is hot saw its last message at 75 or more
  CHECK(score_move_crosses(r, 8200, 7400));
  CHECK(score_move_crosses(r, 7500, 7499));
  CHECK_FALSE(score_move_crosses(r, 8200, 7500)); // still at the lower edge
  CHECK_FALSE(score_move_crosses(r, 7400, 6000)); // sent below the edge already
  // up: a view where it is not hot saw it below 80
  CHECK(score_move_crosses(r, 7000, 8000));
  CHECK_FALSE(score_move_crosses(r, 8000, 9000)); // already at or above
  CHECK_FALSE(score_move_crosses(r, 7000, 7999));
  CHECK(may_cool({r}, 7500));
  CHECK_FALSE(may_cool({r}, 7499));
  CHECK_FALSE(may_cool({}, 9000));
}

TEST_CASE("the threshold registry counts the views of each rule per org") {
  threshold_registry reg;
  CHECK_FALSE(reg.any());
  threshold_rule a{8000, 500}, b{5000, 500}, a_other{8000, 1000};
  reg.add(1, a);
  reg.add(1, a); // a second view of the same rule
  reg.add(1, b);
  reg.add(2, a_other);
  CHECK(reg.any());
  CHECK(reg.rules(1).size() == 2);
  CHECK(reg.rules(2).size() == 1);
  CHECK(reg.rules(3).empty());
  reg.remove(1, a);
  CHECK(reg.rules(1).size() == 2); // one view of `a` is left
  reg.remove(1, a);
  reg.remove(1, a); // one too many: ignored
  CHECK(reg.rules(1).size() == 1);
  CHECK(reg.rules(1)[0].score == 5000);
  reg.remove(1, b);
  reg.remove(2, a); // not org 2's rule (other hysteresis)
  CHECK(reg.any());
  reg.remove(2, a_other);
  CHECK_FALSE(reg.any());
  CHECK(reg.rules(1).empty());
}
