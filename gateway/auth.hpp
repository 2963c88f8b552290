// Authentication: API keys are random secrets; only their SHA-256 is stored
// (RocksDB and memory). key_table is the gateway's read-mostly copy of all
// keys, filled at start-up from recovery and on each key creation.
// Thread-safe: io threads look up under a shared lock.
#pragma once

#include <caf/actor.hpp>

#include <atomic>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol/org.hpp"

namespace hotlead {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// A fresh API key secret: "hl_" + 48 hex digits (192 bits).
std::string new_key_secret();

/// Who is calling, once the bearer key is known.
struct principal {
  uint64_t org = 0; // 0 for root
  role key_role = role::viewer;
  uint64_t key_id = 0;
  caf::actor org_actor; // null for root
};

class key_table {
public:
  void add(const api_key& k, caf::actor org_actor);

  /// Forgets a key (revocation); connections that cached it re-check.
  void remove(const std::string& hash);

  /// The principal of a secret, or nullopt when unknown.
  std::optional<principal> find(std::string_view secret) const;

  size_t size() const;

  /// Changes whenever keys change (for caches of lookups).
  uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }

private:
  std::atomic<uint64_t> generation_{1};
  mutable std::shared_mutex mtx_;
  std::unordered_map<std::string, principal> by_hash_;
};

/// The secret of "Authorization: Bearer <secret>", or empty.
std::string_view bearer_secret(std::string_view authorization);

} // namespace hotlead
