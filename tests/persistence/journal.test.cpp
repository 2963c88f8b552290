// The journal and store against a real RocksDB in a fresh temporary folder.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "tests/support/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace hotlead;
namespace fs = std::filesystem;

namespace {

using testing::open_store;
using testing::temp_dir;

write_op put(const lead& l) {
  write_op op{write_op::put, keys::lead(l.id), {}};
  encode(op.value, l);
  return op;
}

} // namespace

TEST_CASE("acknowledged journal writes are there after reopening") {
  temp_dir dir;
  std::vector<uint64_t> ids;
  {
    auto db = open_store(dir.path);
    journal jr{*db, true};
    std::vector<std::future<std::optional<problem>>> acks;
    for (int i = 0; i < 200; ++i) {
      lead l;
      l.id = new_id();
      l.org = 1;
      l.set(text::email, "l" + std::to_string(i) + "@example.com");
      ids.push_back(l.id);
      auto pr = std::make_shared<std::promise<std::optional<problem>>>();
      acks.push_back(pr->get_future());
      jr.append({put(l)}, [pr](const std::optional<problem>& e) { pr->set_value(e); });
    }
    for (auto& a : acks)
      CHECK_FALSE(a.get());
    CHECK(jr.stats().writes == 200);
    // Group commit: 200 writes appended at once need far fewer batches.
    CHECK(jr.stats().commits < 200);
    jr.stop();
  }
  auto db = open_store(dir.path);
  std::atomic<uint64_t> seen{0};
  uint64_t count = 0;
  auto err = db->scan_leads(3, [&](size_t, lead&& l) {
    CHECK(l.org == 1);
    ++seen;
  }, count);
  CHECK_FALSE(err);
  CHECK(count == 200);
  CHECK(seen == 200);
}

TEST_CASE("parallel recovery scans visit every lead exactly once") {
  temp_dir dir;
  auto db = open_store(dir.path);
  journal jr{*db, false};
  std::promise<void> done;
  std::vector<write_op> ops;
  for (int i = 0; i < 1000; ++i) {
    lead l;
    l.id = new_id();
    ops.push_back(put(l));
  }
  jr.append(std::move(ops), [&](const std::optional<problem>&) { done.set_value(); });
  done.get_future().wait();
  for (size_t threads : {1, 2, 3, 7}) {
    std::mutex mtx;
    std::set<uint64_t> ids;
    uint64_t count = 0;
    CHECK_FALSE(db->scan_leads(threads, [&](size_t, lead&& l) {
      std::lock_guard lock{mtx};
      CHECK(ids.insert(l.id).second);
    }, count));
    CHECK(ids.size() == 1000);
  }
}

TEST_CASE("deletes and range deletes remove a lead and its events") {
  temp_dir dir;
  auto db = open_store(dir.path);
  journal jr{*db, true};
  auto sync = [&](std::vector<write_op> ops) {
    std::promise<std::optional<problem>> p;
    jr.append(std::move(ops), [&](const std::optional<problem>& e) { p.set_value(e); });
    return p.get_future().get();
  };
  lead l;
  l.id = 77;
  CHECK_FALSE(sync({put(l), {write_op::put, keys::event(77, 0), "{\"type\":\"a\"}"},
                    {write_op::put, keys::event(77, 1), "{\"type\":\"b\"}"},
                    {write_op::put, keys::event(78, 0), "{\"type\":\"other\"}"}}));
  CHECK(db->read_events(77, 10).size() == 2);
  CHECK_FALSE(sync({{write_op::del, keys::lead(77), {}},
                    {write_op::del_range, keys::event(77, 0), keys::events_end(77)}}));
  CHECK(db->read_events(77, 10).empty());
  CHECK(db->read_events(78, 10).size() == 1);
  uint64_t count = 1;
  CHECK_FALSE(db->scan_leads(1, [](size_t, lead&&) {}, count));
  CHECK(count == 0);
}

TEST_CASE("a checkpoint restores into a fresh directory") {
  temp_dir dir, snap, restored;
  {
    auto db = open_store(dir.path / "db");
    CHECK_FALSE(db->put_meta("bootstrapped", "yes"));
    CHECK_FALSE(db->checkpoint((snap.path / "s1").string()));
    auto again = db->checkpoint((snap.path / "s1").string());
    REQUIRE(again);
    CHECK(again->code == errc::invalid_request);
  }
  CHECK_FALSE(restore_checkpoint((snap.path / "s1").string(), (restored.path / "db").string()));
  auto db = open_store(restored.path / "db");
  CHECK(db->get_meta("bootstrapped") == "yes");
  auto not_empty = restore_checkpoint((snap.path / "s1").string(), (restored.path / "db").string());
  REQUIRE(not_empty);
  CHECK(not_empty->code == errc::invalid_request);
}

TEST_CASE("a second open of the same directory is refused with a clear reason") {
  temp_dir dir;
  auto db = open_store(dir.path);
  std::optional<problem> err;
  auto second = store::open(dir.path.string(), err);
  CHECK_FALSE(second);
  REQUIRE(err);
  CHECK(err->code == errc::storage_error);
  CHECK(err->detail.find("another hotlead") != std::string::npos);
}

TEST_CASE("writes after stop are refused, not lost silently") {
  temp_dir dir;
  auto db = open_store(dir.path);
  journal jr{*db, true};
  jr.stop();
  std::optional<problem> got;
  bool called = false;
  jr.append({{write_op::put, "Mx", "1"}}, [&](const std::optional<problem>& e) {
    called = true;
    got = e;
  });
  CHECK(called);
  REQUIRE(got);
  CHECK(got->code == errc::not_ready);
}
