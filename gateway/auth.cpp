#include "gateway/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <mutex>

#include "protocol/ids.hpp"

namespace hotlead {

namespace {

std::string to_hex(const unsigned char* md, unsigned len) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xf];
  }
  return out;
}

} // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return to_hex(md, len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return to_hex(md, len);
}

std::string new_key_secret() {
  return "hl_" + random_hex(24);
}

void key_table::add(const api_key& k, caf::actor org_actor) {
  std::unique_lock lock{mtx_};
  by_hash_[k.hash] = principal{k.org, k.key_role, k.id, std::move(org_actor)};
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void key_table::remove(const std::string& hash) {
  std::unique_lock lock{mtx_};
  by_hash_.erase(hash);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::optional<principal> key_table::find(std::string_view secret) const {
  if (secret.empty() || secret.size() > 256)
    return std::nullopt;
  auto hash = sha256_hex(secret);
  std::shared_lock lock{mtx_};
  auto i = by_hash_.find(hash);
  if (i == by_hash_.end())
    return std::nullopt;
  return i->second;
}

std::optional<principal> key_table::find_id(uint64_t key_id) const {
  std::shared_lock lock{mtx_};
  for (auto& [hash, who] : by_hash_) // keys are few; a token is checked once per connection
    if (who.key_id == key_id)
      return who;
  return std::nullopt;
}

size_t key_table::size() const {
  std::shared_lock lock{mtx_};
  return by_hash_.size();
}

std::string stream_tokens::issue(const principal& who, int64_t expires_at_ms) const {
  std::string t = id_to_hex(who.org) + "." + id_to_hex(who.key_id) + "." +
                  std::to_string(expires_at_ms);
  auto mac = hmac_sha256_hex(secret_, t);
  return t + "." + mac;
}

std::optional<principal> stream_tokens::verify(std::string_view token, int64_t now_ms,
                                               const key_table& keys, std::string& why) const {
  auto dot = token.rfind('.');
  if (token.size() > 200 || dot == token.npos) {
    why = "the token is malformed; get one from POST /v1/stream/tokens";
    return std::nullopt;
  }
  auto body = token.substr(0, dot);
  auto mac = hmac_sha256_hex(secret_, body);
  auto given = token.substr(dot + 1);
  if (given.size() != mac.size() || CRYPTO_memcmp(given.data(), mac.data(), mac.size()) != 0) {
    why = "the token is not valid (altered, or issued by another server)";
    return std::nullopt;
  }
  // The mac is ours, so the fields are as issued.
  auto d1 = body.find('.');
  auto d2 = body.find('.', d1 + 1);
  auto org = parse_id(body.substr(0, d1));
  auto key = parse_id(body.substr(d1 + 1, d2 - d1 - 1));
  int64_t expires = 0;
  auto exp_text = body.substr(d2 + 1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), expires);
  if (!org || !key) {
    why = "the token is malformed; get one from POST /v1/stream/tokens";
    return std::nullopt;
  }
  if (now_ms >= expires) {
    why = "the token has expired; get a fresh one from POST /v1/stream/tokens";
    return std::nullopt;
  }
  auto who = keys.find_id(*key);
  if (!who || who->org != *org) {
    why = "the key that issued this token was revoked";
    return std::nullopt;
  }
  return who;
}

std::string_view bearer_secret(std::string_view auth) {
  constexpr std::string_view scheme = "Bearer ";
  if (auth.size() <= scheme.size())
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(auth[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return {};
  auto s = auth.substr(scheme.size());
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

} // namespace hotlead
