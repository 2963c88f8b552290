#include "actors/catalog_actor.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "actors/commit_waiter.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/org_actor.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

struct catalog_state {
  std::shared_ptr<catalog_init> cfg;
  // Work to finish (in this actor) once the journal has a record.
  commit_waiter commits;
  static inline const char* name = "catalog";
};

namespace {

using self_ptr = caf::stateful_actor<catalog_state>*;

void journal_write(self_ptr self, write_op op, commit_waiter::then_fn then) {
  self->state.commits.write(self, *self->state.cfg->jr, {std::move(op)}, std::move(then));
}

} // namespace

namespace {

caf::behavior catalog_actor(caf::stateful_actor<catalog_state>* self,
                            std::shared_ptr<catalog_init> init) {
  self->state.cfg = std::move(init);
  self->set_default_handler(caf::drop);
  return {
    [=](msg::new_org& m) -> caf::result<org> {
      auto rp = self->make_response_promise<org>();
      auto o = std::move(m.record);
      o.id = new_id();
      o.created_at = now_ms();
      std::string value;
      encode(value, o);
      journal_write(self, {write_op::put, keys::org(o.id), std::move(value)},
                  [=](const std::optional<problem>& err) mutable {
                    if (err) {
                      rp.deliver(make_error(*err));
                      return;
                    }
                    auto dir = std::make_shared<org_init>();
                    dir->org = o.id;
                    dir->rt = self->state.cfg->rt;
                    dir->jr = self->state.cfg->jr;
                    dir->models = self->state.cfg->models;
                    dir->jobs = self->state.cfg->jobs;
                    auto hdl = spawn_org(self->system(), dir);
                    self->link_to(hdl); // org actors stop with the catalog
                    self->state.cfg->org_actors[o.id] = hdl;
                    self->state.cfg->orgs[o.id] = o;
                    rp.deliver(o);
                  });
      return rp;
    },
    [=](msg::new_key& m) -> caf::result<msg::key_grant> {
      auto org_it = self->state.cfg->org_actors.find(m.record.org);
      if (org_it == self->state.cfg->org_actors.end())
        return make_error(errc::not_found, "no organization with id " + id_to_hex(m.record.org));
      auto rp = self->make_response_promise<msg::key_grant>();
      std::string value;
      encode(value, m.record);
      auto grant = msg::key_grant{m.record, org_it->second};
      journal_write(self, {write_op::put, keys::api_key(m.record.hash), std::move(value)},
                    [=](const std::optional<problem>& err) mutable {
                      if (err) {
                        rp.deliver(make_error(*err));
                        return;
                      }
                      self->state.cfg->keys[grant.record.id] = grant.record;
                      rp.deliver(std::move(grant));
                    });
      return rp;
    },
    [=](const msg::list_keys& m) -> caf::result<std::string> {
      if (!self->state.cfg->org_actors.count(m.org))
        return make_error(errc::not_found, "no organization with id " + id_to_hex(m.org));
      std::vector<const api_key*> found;
      for (auto& [id, k] : self->state.cfg->keys)
        if (k.org == m.org)
          found.push_back(&k);
      std::sort(found.begin(), found.end(), [](auto* a, auto* b) {
        return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
      });
      std::string body = "{\"data\":[";
      for (size_t i = 0; i < found.size(); ++i) {
        if (i)
          body += ',';
        write_key(body, *found[i], {});
      }
      body += "]}";
      return body;
    },
    [=](const msg::revoke_key& m) -> caf::result<api_key> {
      auto i = self->state.cfg->keys.find(m.key_id);
      if (i == self->state.cfg->keys.end() || i->second.org != m.org)
        return make_error(errc::not_found, "no key with id " + id_to_hex(m.key_id) +
                                             " in this organization");
      auto rp = self->make_response_promise<api_key>();
      auto record = i->second;
      journal_write(self, {write_op::del, keys::api_key(record.hash), {}},
                    [=](const std::optional<problem>& err) mutable {
                      if (err) {
                        rp.deliver(make_error(*err));
                        return;
                      }
                      self->state.cfg->keys.erase(record.id);
                      rp.deliver(record);
                    });
      return rp;
    },
    [=](msg::committed_atom, uint64_t token, const std::optional<problem>& err) {
      self->state.commits.done(token, err);
    },
  };
}

} // namespace

caf::actor spawn_catalog(caf::actor_system& sys, std::shared_ptr<catalog_init> init) {
  return sys.spawn(catalog_actor, std::move(init));
}

} // namespace hotlead
