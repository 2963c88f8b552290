// A shard's leads in memory. The shard actor is the only writer and changes
// the table only while holding its write lock; io threads read leads (one,
// or a batch) under the read lock, so a GET is answered on the io thread that received
// it, without a message to the shard and back (two cross-thread hops, the
// largest cost of a read; see docs/PERFORMANCE.md). The shard actor itself
// reads without the lock: no other thread writes.
//
// The lock prefers writers: a steady stream of readers on the io threads
// cannot starve the shard's writes.
#pragma once

#include <absl/container/node_hash_map.h>
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "protocol/lead.hpp"

namespace hotlead {

/// A reader/writer lock that lets a waiting writer go before new readers
/// (std::shared_mutex on glibc prefers readers). Meets SharedMutex, so
/// std::unique_lock and std::shared_lock work with it.
class rw_lock {
public:
  rw_lock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~rw_lock() {
    pthread_rwlock_destroy(&lock_);
  }
  rw_lock(const rw_lock&) = delete;
  rw_lock& operator=(const rw_lock&) = delete;

  void lock() {
    pthread_rwlock_wrlock(&lock_);
  }
  bool try_lock() {
    return pthread_rwlock_trywrlock(&lock_) == 0;
  }
  void unlock() {
    pthread_rwlock_unlock(&lock_);
  }
  void lock_shared() {
    pthread_rwlock_rdlock(&lock_);
  }
  bool try_lock_shared() {
    return pthread_rwlock_tryrdlock(&lock_) == 0;
  }
  void unlock_shared() {
    pthread_rwlock_unlock(&lock_);
  }

private:
  pthread_rwlock_t lock_;
};

class lead_table {
public:
  // Node-based like std::unordered_map (a lead never moves while it is in
  // the table), but a lookup reads a compact control/slot array and then the
  // one node, where libstdc++'s map reads its bucket, the node before, and
  // then the node: on a GET that misses the cache, two misses saved
  // (docs/PERFORMANCE.md).
  using map = absl::node_hash_map<uint64_t, lead>;

  lead_table() = default;
  explicit lead_table(map leads) : leads_(std::move(leads)) {}

  // -- any thread ---------------------------------------------------------------

  /// Calls f(lead) under the read lock when `id` is a lead of `org` and
  /// returns true; false when there is none (another org's lead looks
  /// exactly missing). f must not block: writers of this shard wait.
  template <class F>
  bool read(uint64_t org, uint64_t id, F&& f) const {
    std::shared_lock lock{mtx_};
    auto i = leads_.find(id);
    if (i == leads_.end() || i->second.org != org)
      return false;
    f(i->second);
    return true;
  }

  /// Reads many leads under one read lock, their cache misses overlapped:
  /// a lead read alone waits for one miss after another (the map's control
  /// bytes and slot, the node, then the lead's heap blocks); here each step
  /// is first taken for every item, its loads independent of each other, so
  /// the CPU has them in flight together. For each item (with `org` and `id`
  /// members) calls f(item, lead*), the lead or null when `id` is not a
  /// lead of `org`. f must not block.
  template <class Item, class F>
  void read_batch(std::span<Item> items, F&& f) const {
    std::shared_lock lock{mtx_};
    const lead* found[batch_max];
    for (size_t i = 0; i < items.size(); ++i) {
      auto j = leads_.find(items[i].id);
      found[i] = j == leads_.end() ? nullptr : &j->second;
      if (found[i])
        touch_node(*found[i]);
    }
    for (size_t i = 0; i < items.size(); ++i)
      if (found[i])
        touch_blocks(*found[i]);
    for (size_t i = 0; i < items.size(); ++i)
      f(items[i], found[i] && found[i]->org == items[i].org ? found[i] : nullptr);
  }

  /// The ids of the org's leads for which pred(lead) holds, under one read
  /// lock (a scan: writers of this shard wait for it).
  template <class Pred>
  std::vector<uint64_t> ids_of(uint64_t org, Pred&& pred) const {
    std::vector<uint64_t> out;
    std::shared_lock lock{mtx_};
    for (auto& [id, l] : leads_)
      if (l.org == org && pred(l))
        out.push_back(id);
    return out;
  }

  /// Calls f(lead) for each of `ids` that is still a lead of `org`, under
  /// one read lock (keep `ids` short: writers of this shard wait).
  template <class F>
  void read_each(uint64_t org, std::span<const uint64_t> ids, F&& f) const {
    std::shared_lock lock{mtx_};
    for (auto id : ids)
      if (auto i = leads_.find(id); i != leads_.end() && i->second.org == org)
        f(i->second);
  }

  /// The most items read_batch() takes at once.
  static constexpr size_t batch_max = 64;

  // -- the shard actor only -------------------------------------------------------

  /// Held for every change of the map or of a lead in it.
  [[nodiscard]] std::unique_lock<rw_lock> write_lock() {
    return std::unique_lock{mtx_};
  }

  /// The map itself, for the owning actor: reads need no lock, changes
  /// need write_lock().
  map& leads() {
    return leads_;
  }
  const map& leads() const {
    return leads_;
  }

private:
  // Loads one byte per cache line and drops it. Not __builtin_prefetch:
  // on the machines measured, prefetches of these lines did not arrive in
  // time (or at all) and a GET cost 5.9 us of server CPU; plain loads, whose
  // misses the CPU overlaps, brought it to 5.4 (docs/PERFORMANCE.md).
  static void touch(const void* p) {
    auto v = *static_cast<const volatile char*>(p);
    (void)v;
  }
  static void touch_range(const void* p, size_t bytes) {
    if (bytes == 0)
      return;
    auto* c = static_cast<const char*>(p);
    bytes = std::min<size_t>(bytes, 512);
    for (size_t off = 0; off < bytes; off += 64)
      touch(c + off);
    touch(c + bytes - 1); // the last line, when the range starts mid-line
  }
  static void touch_node(const lead& l) {
    auto* p = reinterpret_cast<const char*>(&l);
    for (size_t off = 64; off < sizeof(lead); off += 64)
      touch(p + off);
    touch(p + sizeof(lead) - 1);
  }
  static void touch_blocks(const lead& l) {
    if (auto* t = l.texts.heap_block())
      touch_range(t, l.texts.heap_bytes());
    touch_range(l.tags.data(), l.tags.size() * sizeof(symbol));
    touch_range(l.attributes.data(), l.attributes.size() * sizeof(attribute));
    touch_range(l.counters.data(), l.counters.size() * sizeof(event_counter));
  }

  mutable rw_lock mtx_;
  map leads_;
};

} // namespace hotlead
