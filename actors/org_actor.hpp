// An org actor: one per organization. It owns the org's directory (email and
// external_id → lead id), which keeps both unique per org across shards, and
// coordinates every lead write that can change them: create/upsert, patch
// and delete. It reserves identities before forwarding to the lead's shard
// and releases them when the shard refuses, so two racing creates with one
// email cannot both succeed. Events and reads skip it and go to the shard.
// It also stores the org's scoring model versions and activates them,
// starting the re-score job on every shard.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hotlead {

class job_table;
class journal;
class model_registry;
class router;

/// email or external_id → lead id. Keyed by a 128-bit hash of the value
/// (two independent 64-bit hashes) rather than a copy of the string: ~40
/// bytes an entry instead of ~120, and a false match needs ~2^64 values.
struct identity_key {
  uint64_t a = 0, b = 0;
  bool operator==(const identity_key&) const = default;
};

struct identity_hash {
  size_t operator()(const identity_key& k) const {
    return static_cast<size_t>(k.a);
  }
};

identity_key make_identity_key(std::string_view value);

using identity_index = std::unordered_map<identity_key, uint64_t, identity_hash>;

struct org_init {
  uint64_t org = 0;
  const router* rt = nullptr;
  journal* jr = nullptr;
  std::shared_ptr<model_registry> models; // the org's scoring models (PUT, activate)
  std::shared_ptr<job_table> jobs;
  identity_index by_email, by_external_id;
};

caf::actor spawn_org(caf::actor_system& sys, std::shared_ptr<org_init> init);

} // namespace hotlead
