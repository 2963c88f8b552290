// An org actor: one per organization. It owns the org's directory (email and
// external_id → lead id), which keeps both unique per org across shards, and
// coordinates every lead write that can change them: create/upsert, patch
// and delete. It reserves identities before forwarding to the lead's shard
// and releases them when the shard refuses, so two racing creates with one
// email cannot both succeed. Events and reads skip it and go to the shard.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace hotlead {

class router;

struct org_init {
  uint64_t org = 0;
  const router* rt = nullptr;
  std::unordered_map<std::string, uint64_t> by_email, by_external_id;
};

caf::actor spawn_org(caf::actor_system& sys, std::shared_ptr<org_init> init);

} // namespace hotlead
