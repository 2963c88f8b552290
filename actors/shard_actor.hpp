// A shard: the leads whose ids hash to its slots, hot in memory, and the only
// place they change. One CAF actor, so a shard's leads are changed by one
// thread at a time; io threads read single leads from its lead_table under
// the table's read lock (see lead_table.hpp), so the actor takes the write
// lock around each change. A write is applied in memory, handed to the
// journal, and answered when the journal reports it durable.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "actors/lead_table.hpp"
#include "protocol/limits.hpp"

namespace hotlead {

class journal;
class job_table;
class model_registry;
class store;
class threshold_registry;
struct node_stats;

struct shard_init {
  size_t index = 0;
  journal* jr = nullptr;
  store* db = nullptr; // read-only here: roll-backs, event replays of a re-score
  std::shared_ptr<const model_registry> models; // shared: shards may outlive the node object
  node_stats* stats = nullptr;
  limits lim;
  uint64_t max_events_per_lead = 1000; // raw events kept in RocksDB per lead
  std::shared_ptr<lead_table> table; // recovered state; shared with the router
  std::vector<uint64_t> tails;       // recovered leads with an event tail (replayed)
  std::chrono::milliseconds sweep_interval{2000};
  threshold_registry* thresholds = nullptr; // rules of threshold views; null: none
};

caf::actor spawn_shard(caf::actor_system& sys, std::shared_ptr<shard_init> init);

} // namespace hotlead
