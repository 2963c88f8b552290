// Tenants and their credentials: organizations, API keys, roles and the
// permission matrix. Plain data; the catalog actor owns the records and the
// gateway keeps a read-mostly copy of the keys for authentication.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/time.hpp"

namespace hotlead {

enum class role : uint8_t { root, admin, manager, sales_rep, analyst, viewer };

std::string_view to_string(role r);
/// Org roles only: "root" is not a role a key can be given.
std::optional<role> parse_role(std::string_view text);

enum class permission : uint8_t {
  read_leads,   // every org role
  write_leads,  // admin, manager, sales_rep
  delete_leads, // admin, manager
  manage_keys,  // admin (and root)
  manage_orgs,  // root
  operate,      // root: snapshots and other admin operations
  manage_webhooks, // admin, manager
};

/// The permission matrix (documented in the README).
bool allowed(role r, permission p);

struct org {
  uint64_t id = 0;
  std::string name;
  std::string industry;
  std::string plan; // free, pro, enterprise
  millis created_at = 0;
};

struct api_key {
  std::string hash; // hex SHA-256 of the secret; the secret is never stored
  uint64_t id = 0;  // public id of the key (shown in listings)
  uint64_t org = 0; // 0 for the root key
  role key_role = role::viewer;
  std::string name;
  millis created_at = 0;
};

} // namespace hotlead
