// Key → shard. Every lead id hashes to one of a fixed number of slots, and a
// slot to a shard. The slot count never changes, so a different shard count
// after a restart still places every lead exactly once; the cluster work will
// extend slot → shard to slot → (node, shard). Immutable after start, so any
// thread may read it. Besides each shard's actor (every write, every list)
// it hands out the shard's lead_table, which io threads read single leads
// from without a message (a remote shard will only have the actor).
#pragma once

#include <caf/actor.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "actors/lead_table.hpp"

namespace hotlead {

class router {
public:
  static constexpr uint32_t slot_count = 4096;

  router(std::vector<caf::actor> shards, std::vector<std::shared_ptr<const lead_table>> tables)
    : shards_(std::move(shards)), tables_(std::move(tables)) {}

  /// The slot of a lead id (a mix of all its bits: ids are random, but a
  /// caller could choose them in a future import path).
  static uint32_t slot_of(uint64_t id) {
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return static_cast<uint32_t>(id % slot_count);
  }

  static size_t shard_index(uint64_t id, size_t shards) {
    return slot_of(id) % shards;
  }

  size_t shard_index(uint64_t id) const {
    return shard_index(id, shards_.size());
  }

  const caf::actor& shard_for(uint64_t id) const {
    return shards_[shard_index(id)];
  }

  /// The in-memory leads of the shard that owns `id`, for reads.
  const lead_table& table_for(uint64_t id) const {
    return *tables_[shard_index(id)];
  }

  const std::vector<caf::actor>& shards() const {
    return shards_;
  }

  /// Every shard's leads, for scans from an io thread (exports).
  const std::vector<std::shared_ptr<const lead_table>>& tables() const {
    return tables_;
  }

private:
  std::vector<caf::actor> shards_;
  std::vector<std::shared_ptr<const lead_table>> tables_;
};

} // namespace hotlead
