// The catalog: organizations and API keys, the rare writes that shape
// tenancy. It journals each record, spawns an org actor for a new org,
// answers a new key with the org actor's handle so the gateway can route that
// key's requests without another lookup, lists an org's keys (never their
// secrets) and revokes them.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "protocol/org.hpp"

namespace hotlead {

class job_table;
class journal;
class model_registry;
class router;

struct catalog_init {
  journal* jr = nullptr;
  const router* rt = nullptr;
  std::shared_ptr<model_registry> models;
  std::shared_ptr<job_table> jobs;
  std::unordered_map<uint64_t, org> orgs;
  std::unordered_map<uint64_t, caf::actor> org_actors; // recovered, already spawned
  std::unordered_map<uint64_t, api_key> keys;           // by key id
};

caf::actor spawn_catalog(caf::actor_system& sys, std::shared_ptr<catalog_init> init);

} // namespace hotlead
