// The org actor's model handlers (org_state.hpp): scoring model versions
// and their activation (which starts the re-score job), predictive model
// training (on a thread of its own: training.hpp) and activation. Every
// change is journaled before it takes effect and before it is answered.
#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "actors/jobs.hpp"
#include "actors/model_registry.hpp"
#include "actors/org_state.hpp"
#include "actors/router.hpp"
#include "actors/training.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "protocol/features.hpp"
#include "protocol/ids.hpp"

namespace hotlead::org_detail {

namespace {

// Journals a change of the org's models, one at a time (`model_write`); a
// failure answers `rp` with it, success runs `then` in this actor.
template <class Promise>
void write_model_change(self_ptr self, std::vector<write_op> ops, Promise rp,
                        std::function<void()> then) {
  self->state.model_write = true;
  self->state.commits.write(self, *self->state.dir->jr, std::move(ops),
                            [=](const std::optional<problem>& err) mutable {
                              self->state.model_write = false;
                              if (err)
                                rp.deliver(make_error(*err));
                              else
                                then();
                            });
}

write_op model_record(uint64_t org, const model_entry& e) {
  std::string v;
  keys::put_be64(v, static_cast<uint64_t>(e.created_at));
  v += e.json;
  return {write_op::put, keys::model(org, e.version), std::move(v)};
}

caf::error busy() {
  return make_error(errc::conflict, "another change of this org's models is being stored; retry");
}

// An org without a stored model scores with the default; its first model
// change stores that default as version 1 in the same write (so a later
// release's default does not change it): the record goes into `ops` and the
// entry is returned (null when already stored).
std::shared_ptr<model_entry> store_default_first(const org_init& d, std::vector<write_op>& ops) {
  if (d.models->stored(d.org))
    return nullptr;
  auto v1 = std::make_shared<model_entry>(d.models->fallback());
  v1->created_at = now_ms();
  ops.push_back(model_record(d.org, *v1));
  return v1;
}

// Once the write is durable: the stored default joins the registry.
void adopt_default(org_init& d, const std::shared_ptr<model_entry>& v1) {
  if (v1 && !d.models->stored(d.org)) {
    d.models->add(d.org, std::move(*v1));
    d.models->activate(d.org, 1);
  }
}

} // namespace

caf::result<std::string> put_model(self_ptr self, msg::put_model& m) {
  if (self->state.model_write)
    return busy();
  auto& d = *self->state.dir;
  std::vector<write_op> ops;
  auto v1 = store_default_first(d, ops);
  auto e = std::make_shared<model_entry>();
  e->version = v1 ? 2 : static_cast<uint32_t>(d.models->versions(d.org).size() + 1);
  e->created_at = now_ms();
  e->json = std::move(m.json);
  e->model = std::move(*m.model);
  ops.push_back(model_record(d.org, *e));
  auto rp = self->make_response_promise<std::string>();
  write_model_change(self, std::move(ops), rp, [=]() mutable {
    auto& d = *self->state.dir;
    adopt_default(d, v1);
    auto& added = d.models->add(d.org, std::move(*e));
    rp.deliver(model_version_json(added, d.models->active(d.org).version == added.version));
  });
  return rp;
}

caf::result<std::shared_ptr<job>> activate_model(self_ptr self, const msg::activate_model& m) {
  auto& d = *self->state.dir;
  if (!d.models->find(d.org, m.version))
    return make_error(errc::not_found, "no scoring model version " + std::to_string(m.version) +
                                         "; GET /v1/scoring-model/versions lists them");
  if (self->state.model_write)
    return busy();
  if (auto& j = self->state.rescore; j && !j->finished_at.load())
    return make_error(errc::conflict, "a re-score is running (job " + id_to_hex(j->id) +
                                        "); activate when it is done (GET /v1/jobs/" +
                                        id_to_hex(j->id) + ")");
  std::vector<write_op> ops;
  auto v1 = store_default_first(d, ops);
  ops.push_back({write_op::put, keys::active_model(d.org), std::to_string(m.version)});
  auto version = m.version;
  auto rp = self->make_response_promise<std::shared_ptr<job>>();
  write_model_change(self, std::move(ops), rp, [=]() mutable {
    auto& d = *self->state.dir;
    adopt_default(d, v1);
    d.models->activate(d.org, version);
    auto& shards = d.rt->shards();
    auto j = d.jobs->create(d.org, "rescore", "\"model_version\":" + std::to_string(version),
                            static_cast<int>(shards.size()));
    self->state.rescore = j;
    for (auto& s : shards)
      self->send(s, msg::rescore{d.org, version, j});
    rp.deliver(j);
  });
  return rp;
}


// -- predictive models --------------------------------------------------------------

caf::result<std::shared_ptr<job>> train_model(self_ptr self, msg::train_model& m) {
  auto& st = self->state;
  auto& d = *st.dir;
  if (st.training)
    return make_error(errc::conflict, "a training is running (job " + id_to_hex(st.training->id) +
                                        "); train again when it is done (GET /v1/jobs/" +
                                        id_to_hex(st.training->id) + ")");
  st.training = d.jobs->create(d.org, "train", {}, 1);
  auto rp = self->make_response_promise<std::shared_ptr<job>>();
  st.train_reply = rp;
  self->spawn<caf::detached>(run_training, caf::actor_cast<caf::actor>(self), d.rt->tables(),
                             d.org, std::move(m.req), st.training);
  return rp;
}

void train_ready(self_ptr self, msg::train_ready& m) {
  auto& st = self->state;
  if (!st.train_reply || !st.training)
    return;
  auto rp = std::move(*st.train_reply);
  st.train_reply.reset();
  if (m.err) {
    st.training->fail(m.err->detail);
    st.training->part_done();
    st.training = nullptr;
    rp.deliver(make_error(*m.err));
    return;
  }
  rp.deliver(st.training);
}

void trained(self_ptr self, msg::trained& m) {
  auto& st = self->state;
  auto j = st.training;
  if (!j)
    return;
  if (!m.entry) {
    j->fail(m.error);
    j->part_done();
    st.training = nullptr;
    return;
  }
  auto& d = *st.dir;
  auto e = m.entry;
  e->version = d.models->predictive.next_version(d.org);
  e->created_at = now_ms();
  std::string v;
  keys::put_be64(v, static_cast<uint64_t>(e->created_at));
  v += predictive_record(*e);
  std::vector<write_op> ops{{write_op::put, keys::predictive_model(d.org, e->version), v}};
  st.commits.write(self, *d.jr, std::move(ops), [=](const std::optional<problem>& err) {
    auto& st = self->state;
    auto& d = *st.dir;
    if (err) {
      j->fail("the trained model could not be stored (" + err->detail + "); train again");
    } else {
      auto version = e->version;
      d.models->predictive.add(d.org, std::move(*e));
      j->result = d.models->predictive.entry_json(d.org, *d.models->predictive.find(d.org, version),
                                                  false);
    }
    j->part_done();
    st.training = nullptr;
  });
}

caf::result<std::string> activate_predictive(self_ptr self, const msg::activate_predictive& m) {
  auto& d = *self->state.dir;
  auto& reg = d.models->predictive;
  for (auto v : {m.version, m.split_version})
    if (v && !reg.find(d.org, v))
      return make_error(errc::not_found, "no predictive model version " + std::to_string(v) +
                                           "; GET /v1/models lists them");
  if (self->state.model_write)
    return busy();
  predictive_setting s{m.version, m.split_version, m.split_percent};
  std::vector<write_op> ops;
  if (s.version)
    ops.push_back({write_op::put, keys::active_predictive(d.org), setting_record(s)});
  else
    ops.push_back({write_op::del, keys::active_predictive(d.org), {}});
  auto rp = self->make_response_promise<std::string>();
  write_model_change(self, std::move(ops), rp, [=]() mutable {
    auto& d = *self->state.dir;
    d.models->predictive.activate(d.org, s);
    rp.deliver(to_json(d.models->predictive.active(d.org)));
  });
  return rp;
}

} // namespace hotlead::org_detail
