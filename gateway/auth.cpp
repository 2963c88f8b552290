#include "gateway/auth.hpp"

#include <openssl/evp.h>

#include <mutex>

#include "protocol/ids.hpp"

namespace hotlead {

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 0xf];
  }
  return out;
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

size_t key_table::size() const {
  std::shared_lock lock{mtx_};
  return by_hash_.size();
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
