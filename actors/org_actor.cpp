#include "actors/org_actor.hpp"
#include "actors/org_state.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "actors/commit_waiter.hpp"
#include "actors/errors.hpp"
#include "actors/jobs.hpp"
#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "actors/router.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

using namespace org_detail;

namespace {

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
template <class Written>
void settle(self_ptr self, uint64_t id, const Written& w) {
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

std::optional<uint64_t> existing(self_ptr self, msg::upsert_mode mode, const lead_patch& p) {
  auto& d = *self->state.dir;
  const index* idx = nullptr;
  const std::string* key = nullptr;
  if (mode == msg::upsert_mode::email) {
    idx = &d.by_email;
    key = &p.email.value;
  } else if (mode == msg::upsert_mode::external_id) {
    idx = &d.by_external_id;
    key = &p.external_id.value;
  } else {
    return std::nullopt;
  }
  auto i = idx->find(make_identity_key(*key));
  return i == idx->end() ? std::nullopt : std::optional<uint64_t>{i->second};
}

std::optional<caf::error> missing_key(msg::upsert_mode mode, const lead_patch& p,
                                      std::string_view where) {
  if (mode == msg::upsert_mode::email && !p.email.has_value())
    return make_error(errc::missing_field,
                      "upsert=email needs the lead's email in " + std::string{where});
  if (mode == msg::upsert_mode::external_id && !p.external_id.has_value())
    return make_error(errc::missing_field,
                      "upsert=external_id needs the lead's external_id in " + std::string{where});
  return std::nullopt;
}

// -- bulk import --------------------------------------------------------------------

// One import batch on its way through the shards.
struct import_batch {
  struct row {
    uint64_t number = 0, id = 0;
    reservation reserved;
  };
  std::vector<row> rows; // by index in the batch
  msg::import_outcome out;
  caf::response_promise rp;
  int parts_left = 0;
};

void row_failed(import_batch& b, size_t index, problem p) {
  b.out.errors.emplace_back(b.rows[index].number, std::move(p));
}

void import_part_done(self_ptr self, import_batch& b) {
  if (--b.parts_left > 0)
    return;
  std::sort(b.out.errors.begin(), b.out.errors.end(),
            [](auto& x, auto& y) { return x.first < y.first; });
  b.rp.deliver(std::move(b.out));
}

void on_written(self_ptr self, import_batch& b, msg::write_leads_outcome& w) {
  auto& d = *self->state.dir;
  for (auto& item : w.items) {
    auto& row = b.rows[item.index];
    if (item.error) {
      release(d.by_email, row.reserved.email, row.id);
      release(d.by_external_id, row.reserved.external_id, row.id);
      row_failed(b, item.index, std::move(*item.error));
      continue;
    }
    settle(self, row.id, item);
    ++(item.created ? b.out.created : item.changed ? b.out.updated : b.out.unchanged);
  }
}

void on_refused(self_ptr self, import_batch& b, const std::vector<size_t>& sent,
                const caf::error& e) {
  auto& d = *self->state.dir;
  auto p = to_problem(e);
  for (auto index : sent) {
    auto& row = b.rows[index];
    release(d.by_email, row.reserved.email, row.id);
    release(d.by_external_id, row.reserved.external_id, row.id);
    row_failed(b, index, p);
  }
}

// Resolves each row to a lead (upsert) and reserves its identities here, in
// row order, so two rows with one email become one lead; then every shard
// applies its rows in one journal write.
caf::result<msg::import_outcome> import_rows(self_ptr self, msg::import_rows& m) {
  auto& d = *self->state.dir;
  auto b = std::make_shared<import_batch>();
  b->rows.resize(m.rows.size());
  std::vector<msg::write_leads> parts(d.rt->shards().size());
  for (size_t i = 0; i < m.rows.size(); ++i) {
    auto& row = m.rows[i];
    auto& r = b->rows[i];
    r.number = row.number;
    if (auto err = missing_key(m.mode, row.patch, "every row")) {
      row_failed(*b, i, to_problem(*err));
      continue;
    }
    auto found = existing(self, m.mode, row.patch);
    r.id = found ? *found : new_id();
    if (auto err = reserve_identities(self, row.patch, r.id, r.reserved)) {
      row_failed(*b, i, to_problem(*err));
      continue;
    }
    parts[d.rt->shard_index(r.id)].items.push_back({i, r.id, !found, std::move(row.patch)});
  }
  b->rp = self->make_response_promise<msg::import_outcome>();
  b->parts_left = 1; // this function's own, released below
  for (size_t s = 0; s < parts.size(); ++s) {
    if (parts[s].items.empty())
      continue;
    parts[s].org = m.org;
    parts[s].now = m.now;
    ++b->parts_left;
    auto sent = std::make_shared<std::vector<size_t>>();
    for (auto& item : parts[s].items)
      sent->push_back(item.index);
    self->request(d.rt->shards()[s], caf::infinite, std::move(parts[s]))
      .then(
        [=](msg::write_leads_outcome& w) {
          on_written(self, *b, w);
          import_part_done(self, *b);
        },
        [=](caf::error& e) {
          on_refused(self, *b, *sent, e);
          import_part_done(self, *b);
        });
  }
  auto rp = b->rp;
  import_part_done(self, *b);
  return rp;
}

} // namespace

namespace {

caf::behavior org_actor(caf::stateful_actor<org_state>* self, std::shared_ptr<org_init> init) {
  self->state.dir = std::move(init);
  self->set_default_handler(caf::drop);
  return {
    [=](msg::upsert_lead& m) -> caf::result<msg::lead_written> {
      if (auto err = missing_key(m.mode, m.patch, "the body"))
        return std::move(*err);
      reservation r;
      if (auto id = existing(self, m.mode, m.patch)) {
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
    [=](msg::import_rows& m) { return import_rows(self, m); },
    [=](msg::put_model& m) { return put_model(self, m); },
    [=](const msg::activate_model& m) { return activate_model(self, m); },
    [=](msg::train_model& m) { return train_model(self, m); },
    [=](msg::train_ready& m) { train_ready(self, m); },
    [=](msg::trained& m) { trained(self, m); },
    [=](const msg::activate_predictive& m) { return activate_predictive(self, m); },
    [=](msg::committed_atom, uint64_t token, const std::optional<problem>& err) {
      self->state.commits.done(token, err);
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
