// lead_table::read_batch: the batched read answers exactly what single
// reads answer (found, missing, another org's lead), in item order.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "actors/lead_table.hpp"

using namespace hotlead;

namespace {

struct item {
  uint64_t org, id;
  const lead* seen = nullptr;
  int calls = 0;
};

} // namespace

TEST_CASE("a batched read finds what single reads find, and nothing of another org") {
  lead_table t;
  std::mt19937_64 rng{11};
  std::vector<uint64_t> ids;
  {
    auto w = t.write_lock();
    for (int i = 0; i < 500; ++i) {
      auto id = rng();
      auto& l = t.leads()[id];
      l.id = id;
      l.org = i % 3 == 0 ? 2 : 1; // every third lead is another org's
      l.set(text::email, "lead" + std::to_string(i) + "@example.com");
      l.tags = {intern("t" + std::to_string(i % 5))};
      ids.push_back(id);
    }
  }
  std::vector<item> items;
  for (size_t i = 0; i < lead_table::batch_max; ++i) {
    auto r = rng() % 3;
    uint64_t id = r == 0 ? rng() : ids[rng() % ids.size()]; // r == 0: a missing id
    items.push_back({1, id});
  }
  items.push_back(items.front()); // the same lead twice in one batch
  items.pop_back();
  items.back() = items.front();
  t.read_batch(std::span{items}, [](item& it, const lead* l) {
    it.seen = l;
    ++it.calls;
  });
  size_t found = 0;
  for (auto& it : items) {
    CHECK(it.calls == 1);
    const lead* single = nullptr;
    bool ok = t.read(it.org, it.id, [&](const lead& l) { single = &l; });
    CHECK(ok == (it.seen != nullptr));
    CHECK(single == it.seen);
    if (it.seen) {
      CHECK(it.seen->id == it.id);
      CHECK(it.seen->org == 1);
      ++found;
    }
  }
  CHECK(found > 10);                   // the batch had leads to find...
  CHECK(found < items.size());         // ...and ids to miss
  std::vector<item> none;
  t.read_batch(std::span{none}, [](item&, const lead*) { FAIL("no items, no calls"); });
}
