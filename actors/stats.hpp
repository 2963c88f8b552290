// Counters the actors update and the gateway's /metrics reads: plain
// atomics, no CAF, so the edge can include this cheaply. Relaxed ordering:
// these are gauges for operators, not synchronization.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace hotlead {

struct node_stats {
  explicit node_stats(size_t shards)
    : shard_count(shards), leads(new std::atomic<int64_t>[shards]) {
    for (size_t i = 0; i < shards; ++i)
      leads[i] = 0;
  }
  size_t shard_count;
  std::unique_ptr<std::atomic<int64_t>[]> leads; // per shard
  std::atomic<uint64_t> events{0};               // events recorded since start
};

} // namespace hotlead
