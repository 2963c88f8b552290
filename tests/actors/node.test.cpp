// Shards, org actors and the catalog, driven by CAF messages against a real
// RocksDB: the actor layer without HTTP.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/node.hpp"
#include "gateway/problem.hpp"
#include "persistence/journal.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
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
  explicit fixture(const fs::path& dir, size_t shards = 3) {
    std::optional<problem> err;
    db = store::open(dir.string(), err);
    REQUIRE(db);
    jr = std::make_unique<journal>(*db, true);
    sys = std::make_unique<caf::actor_system>(cfg);
    nd = std::make_unique<node>(*sys, *db, *jr, node_options{shards, limits{}, 5, 2});
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
