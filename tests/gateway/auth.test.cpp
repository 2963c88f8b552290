#include <doctest/doctest.h>

#include "gateway/auth.hpp"

using namespace hotlead;

TEST_CASE("sha256 matches the standard test vector") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("bearer secrets are read case-insensitively and trimmed") {
  CHECK(bearer_secret("Bearer hl_abc") == "hl_abc");
  CHECK(bearer_secret("bearer   hl_abc  ") == "hl_abc");
  CHECK(bearer_secret("Basic dXNlcg==").empty());
  CHECK(bearer_secret("Bearer ").empty());
  CHECK(bearer_secret("").empty());
}

TEST_CASE("the key table finds keys by their secret, never stores the secret") {
  key_table t;
  auto secret = new_key_secret();
  CHECK(secret.rfind("hl_", 0) == 0);
  CHECK(secret.size() == 51);
  api_key k{sha256_hex(secret), 5, 9, role::analyst, "dash", 0};
  t.add(k, {});
  auto who = t.find(secret);
  REQUIRE(who);
  CHECK(who->org == 9);
  CHECK(who->key_role == role::analyst);
  CHECK_FALSE(t.find(k.hash)); // the hash itself is not a key
  CHECK_FALSE(t.find("hl_wrong"));
}

TEST_CASE("the permission matrix") {
  CHECK(allowed(role::viewer, permission::read_leads));
  CHECK_FALSE(allowed(role::viewer, permission::write_leads));
  CHECK_FALSE(allowed(role::analyst, permission::write_leads));
  CHECK(allowed(role::sales_rep, permission::write_leads));
  CHECK_FALSE(allowed(role::sales_rep, permission::delete_leads));
  CHECK(allowed(role::manager, permission::delete_leads));
  CHECK(allowed(role::admin, permission::manage_keys));
  CHECK_FALSE(allowed(role::manager, permission::manage_keys));
  CHECK_FALSE(allowed(role::root, permission::read_leads));
  CHECK(allowed(role::root, permission::manage_orgs));
  CHECK_FALSE(allowed(role::admin, permission::manage_orgs));
}
