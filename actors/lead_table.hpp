// A shard's leads in memory. The shard actor is the only writer and changes
// the table only while holding its write lock; io threads read single leads
// under the read lock, so a GET is answered on the io thread that received
// it, without a message to the shard and back (two cross-thread hops, the
// largest cost of a read; see docs/PERFORMANCE.md). The shard actor itself
// reads without the lock: no other thread writes.
//
// The lock prefers writers: a steady stream of readers on the io threads
// cannot starve the shard's writes.
#pragma once

#include <absl/container/node_hash_map.h>
#include <pthread.h>

#include <cstdint>
#include <mutex>
#include <shared_mutex>

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
  mutable rw_lock mtx_;
  map leads_;
};

} // namespace hotlead
