#include "actors/org_actor.hpp"

#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/router.hpp"
#include "protocol/ids.hpp"

namespace hotlead {

struct org_state {
  std::shared_ptr<org_init> dir;
  static inline const char* name = "org";
};

namespace {

using self_ptr = caf::stateful_actor<org_state>*;
using index = identity_index;

// Identities this write newly reserved, released again if the shard refuses.
struct reservation {
  std::string email, external_id;
};

// Reserves `value` for `id` in `idx`. Fails when another lead holds it.
bool reserve(index& idx, const std::string& value, uint64_t id, std::string& reserved) {
  auto [it, fresh] = idx.try_emplace(make_identity_key(value), id);
  if (!fresh)
    return it->second == id;
  reserved = value;
  return true;
}

void release(index& idx, const std::string& value, uint64_t id) {
  if (value.empty())
    return;
  auto i = idx.find(make_identity_key(value));
  if (i != idx.end() && i->second == id)
    idx.erase(i);
}

std::optional<caf::error> reserve_identities(self_ptr self, const lead_patch& p, uint64_t id,
                                             reservation& r) {
  auto& d = *self->state.dir;
  if (p.email.has_value() && !reserve(d.by_email, p.email.value, id, r.email))
    return make_error(errc::duplicate_email,
                      "another lead of this org has email " + p.email.value +
                        "; update that lead, or create with ?upsert=email");
  if (p.external_id.has_value() &&
      !reserve(d.by_external_id, p.external_id.value, id, r.external_id)) {
    release(d.by_email, r.email, id);
    return make_error(errc::duplicate_external_id,
                      "another lead of this org has external_id " + p.external_id.value +
                        "; update that lead, or create with ?upsert=external_id");
  }
  return std::nullopt;
}

// After a successful write: drop identities the lead no longer has.
void settle(self_ptr self, uint64_t id, const msg::lead_written& w) {
  auto& d = *self->state.dir;
  if (w.old_email != w.email)
    release(d.by_email, w.old_email, id);
  if (w.old_external_id != w.external_id)
    release(d.by_external_id, w.old_external_id, id);
}

// Forwards a write to the lead's shard and settles the directory on reply.
template <class Message>
caf::result<msg::lead_written> forward(self_ptr self, uint64_t id, Message m,
                                       reservation r) {
  auto rp = self->make_response_promise<msg::lead_written>();
  self->request(self->state.dir->rt->shard_for(id), caf::infinite, std::move(m))
    .then(
      [=](msg::lead_written& w) mutable {
        settle(self, id, w);
        rp.deliver(std::move(w));
      },
      [=](caf::error& e) mutable {
        release(self->state.dir->by_email, r.email, id);
        release(self->state.dir->by_external_id, r.external_id, id);
        rp.deliver(std::move(e));
      });
  return rp;
}

std::optional<uint64_t> existing(self_ptr self, const msg::upsert_lead& m) {
  auto& d = *self->state.dir;
  const index* idx = nullptr;
  const std::string* key = nullptr;
  if (m.mode == msg::upsert_mode::email) {
    idx = &d.by_email;
    key = &m.patch.email.value;
  } else if (m.mode == msg::upsert_mode::external_id) {
    idx = &d.by_external_id;
    key = &m.patch.external_id.value;
  } else {
    return std::nullopt;
  }
  auto i = idx->find(make_identity_key(*key));
  return i == idx->end() ? std::nullopt : std::optional<uint64_t>{i->second};
}

} // namespace

namespace {

caf::behavior org_actor(caf::stateful_actor<org_state>* self, std::shared_ptr<org_init> init) {
  self->state.dir = std::move(init);
  self->set_default_handler(caf::drop);
  return {
    [=](msg::upsert_lead& m) -> caf::result<msg::lead_written> {
      if (m.mode == msg::upsert_mode::email && !m.patch.email.has_value())
        return make_error(errc::missing_field, "upsert=email needs the lead's email in the body");
      if (m.mode == msg::upsert_mode::external_id && !m.patch.external_id.has_value())
        return make_error(errc::missing_field,
                          "upsert=external_id needs the lead's external_id in the body");
      reservation r;
      if (auto id = existing(self, m)) {
        if (auto err = reserve_identities(self, m.patch, *id, r))
          return std::move(*err);
        return forward(self, *id, msg::update_lead{m.org, *id, std::move(m.patch), m.now}, r);
      }
      auto id = new_id();
      if (auto err = reserve_identities(self, m.patch, id, r))
        return std::move(*err);
      return forward(self, id, msg::create_lead{m.org, id, std::move(m.patch), m.now}, r);
    },
    [=](msg::update_lead& m) -> caf::result<msg::lead_written> {
      reservation r;
      if (auto err = reserve_identities(self, m.patch, m.id, r))
        return std::move(*err);
      auto id = m.id;
      return forward(self, id, std::move(m), r);
    },
    [=](msg::remove_lead& m) -> caf::result<msg::lead_written> {
      auto id = m.id;
      return forward(self, id, std::move(m), reservation{});
    },
  };
}

} // namespace

identity_key make_identity_key(std::string_view v) {
  // a: libstdc++'s murmur-based string hash; b: FNV-1a 64, independent of it.
  identity_key k;
  k.a = std::hash<std::string_view>{}(v);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : v) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  k.b = h;
  return k;
}

caf::actor spawn_org(caf::actor_system& sys, std::shared_ptr<org_init> init) {
  return sys.spawn(org_actor, std::move(init));
}

} // namespace hotlead
