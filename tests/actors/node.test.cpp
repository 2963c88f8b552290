// Shards, org actors and the catalog, driven by CAF messages against a real
// RocksDB: the actor layer without HTTP.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <filesystem>
#include <thread>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/node.hpp"
#include "gateway/problem.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "tests/support/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace hotlead;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using testing::temp_dir;

// A fresh config per actor system: CAF 0.17 consumes parts of it.
struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// One node on a data directory, with a blocking helper to talk to it.
struct fixture {
  // The sweep (lead records of leads with newer events rewritten) waits an
  // hour unless a test asks for it.
  explicit fixture(const fs::path& dir, size_t shards = 3,
                   std::chrono::milliseconds sweep = std::chrono::hours{1}) {
    db = testing::open_store(dir);
    jr = std::make_unique<journal>(*db, true);
    sys = std::make_unique<caf::actor_system>(cfg);
    nd = std::make_unique<node>(*sys, *db, *jr, node_options{shards, limits{}, 5, 2, sweep});
    REQUIRE_FALSE(nd->start(report, keys));
  }
  ~fixture() {
    nd->stop();
    jr->stop();
    nd.reset();
    sys.reset();
    jr.reset();
    db.reset();
  }

  template <class R, class... Ts>
  std::variant<R, problem> ask(const caf::actor& dest, Ts&&... xs) {
    caf::scoped_actor self{*sys};
    std::variant<R, problem> out = problem{};
    self->request(dest, 5s, std::forward<Ts>(xs)...)
      .receive([&](R& r) { out = std::move(r); }, [&](caf::error& e) { out = to_problem(e); });
    return out;
  }

  // An org and its org actor (through an admin key grant).
  std::pair<uint64_t, caf::actor> make_org(const std::string& name) {
    org o;
    o.name = name;
    auto id = std::get<org>(ask<org>(nd->catalog(), msg::new_org{o})).id;
    api_key k{"hash-" + name, new_id(), id, role::admin, "k", 0};
    auto grant = std::get<msg::key_grant>(ask<msg::key_grant>(nd->catalog(), msg::new_key{k}));
    return {id, grant.org_actor};
  }

  msg::lead_written create(const caf::actor& org_actor, uint64_t org, std::string email,
                           msg::upsert_mode mode = msg::upsert_mode::none) {
    lead_patch p;
    p.email.set(std::move(email));
    auto r = ask<msg::lead_written>(org_actor, msg::upsert_lead{org, p, mode, now_ms()});
    REQUIRE(std::holds_alternative<msg::lead_written>(r));
    return std::get<msg::lead_written>(r);
  }

  test_config cfg;
  std::unique_ptr<store> db;
  std::unique_ptr<journal> jr;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<node> nd;
  recovery_report report;
  std::vector<recovered_key> keys;
};

uint64_t id_of(const msg::lead_written& w) {
  return w.id;
}

} // namespace

SCENARIO("leads are created, read, changed and deleted through their org and shard") {
  temp_dir dir;
  fixture f{dir.path};
  auto [org_id, org_actor] = f.make_org("acme");
  GIVEN("a created lead") {
    auto w = f.create(org_actor, org_id, "ada@example.com");
    CHECK(w.created);
    auto id = id_of(w);
    auto& shard = f.nd->routes().shard_for(id);
    THEN("its shard answers it") {
      auto r = f.ask<std::string>(shard, msg::get_lead{org_id, id});
      REQUIRE(std::holds_alternative<std::string>(r));
      CHECK(std::get<std::string>(r).find("ada@example.com") != std::string::npos);
    }
    THEN("another org sees it as missing") {
      auto r = f.ask<std::string>(shard, msg::get_lead{org_id + 1, id});
      REQUIRE(std::holds_alternative<problem>(r));
      CHECK(std::get<problem>(r).code == errc::not_found);
    }
    THEN("the shard's table, read without a message, gives the same lead to its org only") {
      auto& table = f.nd->routes().table_for(id);
      std::string json;
      CHECK(table.read(org_id, id, [&](const lead& l) { json = lead_json(l); }));
      CHECK(json == std::get<std::string>(f.ask<std::string>(shard, msg::get_lead{org_id, id})));
      CHECK_FALSE(table.read(org_id + 1, id, [](const lead&) {}));
      CHECK_FALSE(table.read(org_id, id + 1, [](const lead&) {}));
    }
    WHEN("a second lead wants the same email") {
      lead_patch p;
      p.email.set("ada@example.com");
      auto r = f.ask<msg::lead_written>(org_actor,
                                        msg::upsert_lead{org_id, p, msg::upsert_mode::none, 1});
      THEN("it is a conflict") {
        REQUIRE(std::holds_alternative<problem>(r));
        CHECK(std::get<problem>(r).code == errc::duplicate_email);
      }
    }
    WHEN("it is upserted by email") {
      auto again = f.create(org_actor, org_id, "ada@example.com", msg::upsert_mode::email);
      THEN("the same lead is updated") {
        CHECK_FALSE(again.created);
        CHECK(id_of(again) == id);
      }
    }
    WHEN("its email changes") {
      lead_patch p;
      p.email.set("ada@new.example");
      auto r = f.ask<msg::lead_written>(org_actor, msg::update_lead{org_id, id, p, now_ms()});
      REQUIRE(std::holds_alternative<msg::lead_written>(r));
      THEN("the old email is free again") {
        auto w2 = f.create(org_actor, org_id, "ada@example.com");
        CHECK(w2.created);
        CHECK(id_of(w2) != id);
      }
    }
    WHEN("it is deleted") {
      auto r = f.ask<msg::lead_written>(org_actor, msg::remove_lead{org_id, id});
      REQUIRE(std::holds_alternative<msg::lead_written>(r));
      THEN("it is gone and its email is free") {
        auto g = f.ask<std::string>(shard, msg::get_lead{org_id, id});
        CHECK(std::get<problem>(g).code == errc::not_found);
        CHECK(f.create(org_actor, org_id, "ada@example.com").created);
      }
    }
  }
}

TEST_CASE("events update counters and the journal keeps only the newest raw events") {
  temp_dir dir;
  fixture f{dir.path};
  auto [org_id, org_actor] = f.make_org("acme");
  auto id = id_of(f.create(org_actor, org_id, "e@example.com"));
  auto& shard = f.nd->routes().shard_for(id);
  for (int i = 0; i < 8; ++i) {
    auto r = f.ask<std::string>(shard, msg::add_event{org_id, id, {"page_view", now_ms(), "{}"}});
    REQUIRE(std::holds_alternative<std::string>(r));
  }
  auto lead_json = std::get<std::string>(f.ask<std::string>(shard, msg::get_lead{org_id, id}));
  CHECK(lead_json.find("\"events\":8") != std::string::npos);
  CHECK(f.db->read_events(id, 100).size() == 5); // max_events_per_lead = 5 in this fixture
}

TEST_CASE("io threads read a lead while its shard writes it: every read is whole and in order") {
  temp_dir dir;
  fixture f{dir.path, 1};
  auto [org_id, org_actor] = f.make_org("acme");
  auto id = id_of(f.create(org_actor, org_id, "r@example.com"));
  auto& table = f.nd->routes().table_for(id);
  constexpr uint64_t writes = 300;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0}, out_of_order{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load()) {
        uint64_t seen = 0;
        bool found = table.read(org_id, id, [&](const lead& l) {
          seen = l.event_seq;
          (void)lead_json(l); // walks every field, counter and attribute
        });
        if (!found || seen < last)
          ++out_of_order;
        last = seen;
        ++reads;
      }
    });
  for (uint64_t i = 0; i < writes; ++i) {
    auto r = f.ask<std::string>(f.nd->routes().shard_for(id),
                                msg::add_event{org_id, id, {"t" + std::to_string(i % 40), now_ms(), "{}"}});
    REQUIRE(std::holds_alternative<std::string>(r));
  }
  done = true;
  for (auto& r : readers)
    r.join();
  CHECK(out_of_order == 0);
  CHECK(reads > 0);
  uint64_t final_seq = 0;
  CHECK(table.read(org_id, id, [&](const lead& l) { final_seq = l.event_seq; }));
  CHECK(final_seq == writes);
}

TEST_CASE("lists merge across shards in order, one org only") {
  temp_dir dir;
  fixture f{dir.path};
  auto [a, a_actor] = f.make_org("a");
  auto [b, b_actor] = f.make_org("b");
  for (int i = 0; i < 30; ++i)
    f.create(a_actor, a, "a" + std::to_string(i) + "@example.com");
  f.create(b_actor, b, "b@example.com");
  size_t total = 0;
  for (auto& shard : f.nd->routes().shards()) {
    list_query q;
    q.org = a;
    q.sort = sort_field::email;
    q.descending = false;
    q.limit = 100;
    auto page = std::get<msg::list_page>(f.ask<msg::list_page>(shard, msg::list_leads{q}));
    for (size_t i = 1; i < page.items.size(); ++i)
      CHECK(page.items[i - 1].first.str < page.items[i].first.str);
    total += page.items.size();
  }
  CHECK(total == 30);
}

TEST_CASE("a restarted node recovers leads, orgs, keys and directories") {
  temp_dir dir;
  uint64_t org_id = 0;
  {
    fixture f{dir.path};
    auto [id, actor] = f.make_org("acme");
    org_id = id;
    for (int i = 0; i < 50; ++i)
      f.create(actor, org_id, "r" + std::to_string(i) + "@example.com");
  }
  fixture f{dir.path, 5}; // a different shard count places every lead too
  CHECK(f.report.leads == 50);
  CHECK(f.report.orgs == 1);
  CHECK(f.report.keys == 1);
  REQUIRE(f.keys.size() == 1);
  auto org_actor = f.keys[0].org_actor;
  lead_patch p;
  p.email.set("r7@example.com");
  auto dup = f.ask<msg::lead_written>(org_actor,
                                      msg::upsert_lead{org_id, p, msg::upsert_mode::none, 1});
  REQUIRE(std::holds_alternative<problem>(dup));
  CHECK(std::get<problem>(dup).code == errc::duplicate_email);
  int64_t sum = 0;
  for (size_t s = 0; s < 5; ++s)
    sum += f.nd->stats().leads[s];
  CHECK(sum == 50);
}

namespace {

// What RocksDB holds for a lead: its record's event_seq (-1 without a
// record) and whether its tail marker is there.
struct stored_state {
  int64_t record_seq = -1;
  bool marker = false;
};

stored_state stored(fixture& f, uint64_t id) {
  stored_state out;
  std::string v;
  if (f.db->db()->Get(rocksdb::ReadOptions{}, keys::lead(id), &v).ok()) {
    lead l;
    REQUIRE(decode(v, l));
    out.record_seq = static_cast<int64_t>(l.event_seq);
  }
  out.marker = f.db->db()->Get(rocksdb::ReadOptions{}, keys::tail(id), &v).ok();
  return out;
}

event_input ev(std::string type, millis ts, std::string props = "{}") {
  return {std::move(type), ts, std::move(props)};
}

std::string json_of(fixture& f, uint64_t org, uint64_t id) {
  auto r = f.ask<std::string>(f.nd->routes().shard_for(id), msg::get_lead{org, id});
  REQUIRE(std::holds_alternative<std::string>(r));
  return std::get<std::string>(r);
}

} // namespace

TEST_CASE("an event stores its record and a tail marker; a restart replays the tail") {
  temp_dir dir;
  uint64_t org_id = 0, id = 0, other = 0;
  std::string before, before_other;
  millis t0 = 1700000000000;
  {
    fixture f{dir.path};
    auto [o, actor] = f.make_org("acme");
    org_id = o;
    id = id_of(f.create(actor, org_id, "t@example.com"));
    other = id_of(f.create(actor, org_id, "u@example.com"));
    CHECK(stored(f, id).record_seq == 0);
    auto& shard = f.nd->routes().shard_for(id);
    for (int i = 0; i < 3; ++i) // fewer than the tail limit (5 kept events here)
      REQUIRE(std::holds_alternative<std::string>(f.ask<std::string>(
        shard, msg::add_event{org_id, id, ev(i % 2 ? "visit" : "open", t0 + 1000 * i,
                                             "{\"i\":" + std::to_string(i) + "}")})));
    auto s = stored(f, id);
    CHECK(s.record_seq == 0); // the lead record was not rewritten
    CHECK(s.marker);
    CHECK(f.db->read_events(id, 100).size() == 3);
    // Seven events on another lead: the fifth rewrites its record, two remain.
    auto& shard2 = f.nd->routes().shard_for(other);
    for (int i = 0; i < 7; ++i)
      REQUIRE(std::holds_alternative<std::string>(
        f.ask<std::string>(shard2, msg::add_event{org_id, other, ev("t" + std::to_string(i % 3),
                                                                    t0 - 5000 * i)})));
    s = stored(f, other);
    CHECK(s.record_seq == 5);
    CHECK(s.marker);
    before = json_of(f, org_id, id);
    before_other = json_of(f, org_id, other);
  }
  fixture f{dir.path};
  CHECK(f.report.tail_leads == 2);
  CHECK(f.report.tail_events == 3 + 2);
  CHECK(json_of(f, org_id, id) == before);
  CHECK(json_of(f, org_id, other) == before_other);
  CHECK(before.find("\"events\":3") != std::string::npos);
  CHECK(before_other.find("\"events\":7") != std::string::npos);
  AND_WHEN("more events follow the replayed ones") {
    REQUIRE(std::holds_alternative<std::string>(f.ask<std::string>(
      f.nd->routes().shard_for(id), msg::add_event{org_id, id, ev("open", t0 + 9000)})));
    THEN("they count on from the tail, and the fifth rewrote the record") {
      CHECK(json_of(f, org_id, id).find("\"events\":4") != std::string::npos);
      CHECK(stored(f, id).record_seq == 0);
      CHECK(stored(f, id).marker);
      REQUIRE(std::holds_alternative<std::string>(f.ask<std::string>(
        f.nd->routes().shard_for(id), msg::add_event{org_id, id, ev("open", t0 + 9500)})));
      CHECK(stored(f, id).record_seq == 5);
      CHECK_FALSE(stored(f, id).marker);
    }
  }
}

TEST_CASE("a patch, a delete and a batch settle the tail of their leads") {
  temp_dir dir;
  fixture f{dir.path, 1}; // one shard: the batch below reaches both leads
  auto [org_id, actor] = f.make_org("acme");
  auto a = id_of(f.create(actor, org_id, "a@example.com"));
  auto b = id_of(f.create(actor, org_id, "b@example.com"));
  auto c = id_of(f.create(actor, org_id, "c@example.com"));
  for (auto id : {a, b})
    for (int i = 0; i < 2; ++i)
      REQUIRE(std::holds_alternative<std::string>(f.ask<std::string>(
        f.nd->routes().shard_for(id), msg::add_event{org_id, id, ev("open", now_ms())})));
  CHECK(stored(f, a).marker);
  lead_patch p;
  p.company.set("Patched");
  REQUIRE(std::holds_alternative<msg::lead_written>(
    f.ask<msg::lead_written>(actor, msg::update_lead{org_id, a, p, now_ms()})));
  CHECK(stored(f, a).record_seq == 2); // the patch wrote the whole lead, events included
  CHECK_FALSE(stored(f, a).marker);
  REQUIRE(std::holds_alternative<msg::lead_written>(
    f.ask<msg::lead_written>(actor, msg::remove_lead{org_id, b})));
  CHECK(stored(f, b).record_seq == -1);
  CHECK_FALSE(stored(f, b).marker);
  CHECK(f.db->read_events(b, 100).empty());
  // One batch: 12 events for c (past the tail limit: record rewritten in the
  // same write) and 1 for a (a new tail).
  msg::add_events batch;
  batch.org = org_id;
  for (int i = 0; i < 13; ++i) {
    batch.ids.push_back(i < 12 ? c : a);
    batch.events.push_back(ev("bulk", now_ms()));
    batch.index.push_back(static_cast<size_t>(i));
  }
  auto r = f.ask<msg::batch_outcome>(f.nd->routes().shard_for(c), batch);
  REQUIRE(std::holds_alternative<msg::batch_outcome>(r));
  CHECK(std::get<msg::batch_outcome>(r).accepted == 13);
  CHECK(stored(f, c).record_seq == 12);
  CHECK_FALSE(stored(f, c).marker);
  CHECK(stored(f, a).record_seq == 2);
  CHECK(stored(f, a).marker);
  CHECK(f.db->read_events(c, 100).size() == 5);
}

TEST_CASE("the sweep rewrites the records of leads with a tail and drops their markers") {
  temp_dir dir;
  fixture f{dir.path, 2, std::chrono::milliseconds{50}};
  auto [org_id, actor] = f.make_org("acme");
  std::vector<uint64_t> ids;
  for (int i = 0; i < 300; ++i) // more than one sweep chunk
    ids.push_back(id_of(f.create(actor, org_id, "s" + std::to_string(i) + "@example.com")));
  for (auto id : ids)
    REQUIRE(std::holds_alternative<std::string>(f.ask<std::string>(
      f.nd->routes().shard_for(id), msg::add_event{org_id, id, ev("open", now_ms())})));
  auto settled = [&] {
    for (auto id : ids) {
      auto s = stored(f, id);
      if (s.marker || s.record_seq != 1)
        return false;
    }
    return true;
  };
  for (int i = 0; i < 100 && !settled(); ++i)
    std::this_thread::sleep_for(50ms);
  CHECK(settled());
}

namespace {

// A reply sink that collects what the shard and the journal deliver.
struct collecting_sink : reply_sink {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<uint64_t, direct_result> got;
  void deliver(uint64_t token, direct_result r) override {
    std::lock_guard lock{mtx};
    got.emplace(token, std::move(r));
    cv.notify_all();
  }
  bool wait_for(size_t n) {
    std::unique_lock lock{mtx};
    return cv.wait_for(lock, 5s, [&] { return got.size() >= n; });
  }
};

} // namespace

TEST_CASE("a burst of routed events is one journal write, each answered through its route") {
  temp_dir dir;
  fixture f{dir.path, 1};
  auto [org_id, actor] = f.make_org("acme");
  auto a = id_of(f.create(actor, org_id, "a@example.com"));
  auto b = id_of(f.create(actor, org_id, "b@example.com"));
  auto sink = std::make_shared<collecting_sink>();
  auto commits = f.jr->stats().commits.load();
  auto writes = f.jr->stats().writes.load();
  msg::add_event_burst burst;
  uint64_t token = 1;
  for (uint64_t id : {a, b, a, uint64_t{0} /* no such lead */, a})
    burst.items.push_back(msg::add_event{org_id, id, ev("visit", now_ms()), {sink, token++}});
  caf::anon_send(f.nd->routes().shard_for(a), std::move(burst));
  REQUIRE(sink->wait_for(5));
  std::lock_guard lock{sink->mtx};
  CHECK(std::get<problem>(sink->got[4]).code == errc::not_found);
  for (uint64_t t : {1, 2, 3, 5})
    REQUIRE(std::holds_alternative<std::string>(sink->got[t]));
  CHECK(std::get<std::string>(sink->got[1]).find("\"events\":1") != std::string::npos);
  CHECK(std::get<std::string>(sink->got[3]).find("\"events\":2") != std::string::npos);
  CHECK(std::get<std::string>(sink->got[5]).find("\"events\":3") != std::string::npos);
  CHECK(std::get<std::string>(sink->got[2]).find("\"events\":1") != std::string::npos);
  CHECK(f.jr->stats().commits.load() == commits + 1); // the four events in one write
  CHECK(f.jr->stats().writes.load() == writes + 4);   // counted as four client writes
  CHECK(f.db->read_events(a, 100).size() == 3);
  CHECK(f.db->read_events(b, 100).size() == 1);
}
