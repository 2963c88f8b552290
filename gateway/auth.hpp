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

/// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

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

  /// The principal of the key with public id `key_id`, or nullopt when it
  /// is gone (revoked).
  std::optional<principal> find_id(uint64_t key_id) const;

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

/// Short-lived WebSocket tokens (POST /v1/stream/tokens), for browsers,
/// which cannot set an Authorization header on a WebSocket: passed as
/// ?token= to GET /v1/stream. A token is "<org>.<key id>.<expiry ms>.<mac>",
/// the mac an HMAC-SHA256 under a secret the node keeps in RocksDB (meta
/// stream_token_secret), so tokens survive a restart. It grants what its
/// key grants while that key exists: revoking the key revokes its tokens.
class stream_tokens {
public:
  explicit stream_tokens(std::string secret) : secret_(std::move(secret)) {}

  std::string issue(const principal& who, int64_t expires_at_ms) const;

  /// The principal of a valid token at `now_ms`, or nullopt with `why` set.
  std::optional<principal> verify(std::string_view token, int64_t now_ms,
                                  const key_table& keys, std::string& why) const;

private:
  std::string secret_;
};

/// The secret of "Authorization: Bearer <secret>", or empty.
std::string_view bearer_secret(std::string_view authorization);

} // namespace hotlead
