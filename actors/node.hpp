// One node's actors: it recovers memory from RocksDB, spawns the shards, one
// org actor per organization and the catalog, and stops them at shutdown.
// start() runs once on the main thread before the gateway accepts requests;
// after it, router() and stats() are safe to read from any thread.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "actors/router.hpp"
#include "actors/stats.hpp"
#include "protocol/errors.hpp"
#include "protocol/limits.hpp"
#include "protocol/org.hpp"

namespace hotlead {

class store;
class journal;
class job_table;
class model_registry;
class threshold_registry;

struct node_options {
  size_t shards = 4;
  limits lim;
  uint64_t max_events_per_lead = 1000;
  size_t recovery_threads = 2;
  // How often shards rewrite the records of leads that have newer events
  // (shard_actor.cpp, "Lead records and their event tails").
  std::chrono::milliseconds sweep_interval{2000};
  // The rules threshold views watch (actors/feed_hub.hpp): shards send the
  // score moves without a change that cross one of them. Null: none.
  threshold_registry* thresholds = nullptr;
};

struct recovery_report {
  uint64_t leads = 0, orgs = 0, keys = 0;
  uint64_t tail_leads = 0, tail_events = 0; // events replayed onto their lead records
  double seconds = 0;
};

/// A key as the gateway's key table needs it.
struct recovered_key {
  api_key record;
  caf::actor org_actor; // null for the root key
};

class node {
public:
  node(caf::actor_system& sys, store& db, journal& jr, node_options opts);
  ~node();

  std::optional<problem> start(recovery_report& report, std::vector<recovered_key>& keys);
  void stop();

  const router& routes() const {
    return *router_;
  }
  const caf::actor& catalog() const {
    return catalog_;
  }
  node_stats& stats() {
    return *stats_;
  }
  const node_options& options() const {
    return opts_;
  }
  /// The orgs' scoring models (read by io threads, changed by org actors).
  const model_registry& models() const {
    return *models_;
  }
  job_table& jobs() {
    return *jobs_;
  }

private:
  caf::actor_system& sys_;
  store& db_;
  journal& jr_;
  node_options opts_;
  std::unique_ptr<node_stats> stats_;
  std::unique_ptr<router> router_;
  std::shared_ptr<model_registry> models_; // shared with the actors, which may outlive this
  std::shared_ptr<job_table> jobs_;
  caf::actor catalog_;
  std::vector<caf::actor> all_;
};

} // namespace hotlead
