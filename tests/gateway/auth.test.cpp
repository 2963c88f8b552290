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

TEST_CASE("hmac-sha256 matches RFC 4231 test case 2") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("stream tokens: valid until expiry, refused when altered or the key is revoked") {
  key_table t;
  auto secret = new_key_secret();
  api_key k{sha256_hex(secret), 5, 9, role::viewer, "browser", 0};
  t.add(k, {});
  stream_tokens tokens{"node-secret"};
  principal who{9, role::viewer, 5, {}};
  auto token = tokens.issue(who, 10'000);
  std::string why;
  auto got = tokens.verify(token, 9'999, t, why);
  REQUIRE(got);
  CHECK(got->org == 9);
  CHECK(got->key_id == 5);
  CHECK_FALSE(tokens.verify(token, 10'000, t, why));
  CHECK(why.find("expired") != std::string::npos);
  auto altered = token;
  altered[0] = altered[0] == '1' ? '2' : '1'; // another org, same mac
  CHECK_FALSE(tokens.verify(altered, 0, t, why));
  CHECK(why.find("not valid") != std::string::npos);
  CHECK_FALSE(stream_tokens{"other-secret"}.verify(token, 0, t, why));
  CHECK_FALSE(tokens.verify("no dots", 0, t, why));
  t.remove(k.hash);
  CHECK_FALSE(tokens.verify(token, 0, t, why));
  CHECK(why.find("revoked") != std::string::npos);
}
