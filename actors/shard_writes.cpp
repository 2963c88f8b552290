// A shard's creates and updates of leads: one (create_lead, update_lead in
// shard_actor.cpp) or a bulk import's batch (msg::write_leads), applied in
// order under one write lock and journaled in one write. Each item is scored
// and gets its history entry as a single create or patch would; an item the
// shard refuses (a missing lead, too many attributes) is reported and the
// others go on. The batch is answered once durable; a failed journal write
// rolls every lead of the batch back and answers the batch with the error.
#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "actors/shard_state.hpp"
#include "persistence/keys.hpp"
#include "protocol/ids.hpp"

namespace hotlead {

namespace shard_detail {

// A new lead from a create body; its journal writes into `ops`, its answer
// (the lead object) only when `answer`. The caller holds the write lock.
caf::expected<msg::lead_written> create_one(self_ptr self, uint64_t org, uint64_t id,
                                            const lead_patch& p, millis now, bool answer,
                                            std::vector<write_op>& ops) {
  auto [it, fresh] = self->state.table->leads().try_emplace(id);
  if (!fresh)
    return make_error(errc::internal, "lead id collision; retry the request");
  auto& l = it->second;
  l.id = id;
  l.org = org;
  apply(l, p);
  l.created_at = l.updated_at = now;
  count_leads(self, 1);
  auto& e = model_of(self, l);
  auto at = ops.size();
  auto s = note_change(l, e, now, score_cause::created, "", ops);
  ops.insert(ops.begin() + at, put_lead(l)); // after note_change: the record has history_seq
  auto score = score_json(*self->state.cfg->models, l, s, e.version, now);
  feed_change(l, feed_type::lead_created, score, s.total, s.total, now, score_cause::created, "",
              ops);
  note_published(self, l);
  return msg::lead_written{true, answer ? lead_answer(l, score) : std::string{},
                           {}, {}, std::string{l.email()}, std::string{l.external_id()}, id};
}

// A patch of a lead; its journal writes into `ops` (none when nothing
// changed). The caller holds the write lock.
caf::expected<msg::lead_written> update_one(self_ptr self, uint64_t org, uint64_t id,
                                            const lead_patch& p, millis now, bool answer,
                                            std::vector<write_op>& ops) {
  auto* l = find(self, org, id);
  if (!l)
    return no_lead(id);
  if (auto n = attributes_after(*l, p); n > self->state.cfg->lim.max_attributes)
    return make_error(errc::invalid_field,
                      "the lead would have " + std::to_string(n) + " attributes; at most " +
                        std::to_string(self->state.cfg->lim.max_attributes) +
                        " are allowed (limits.max_attributes); remove some with null");
  msg::lead_written w{false, {}, std::string{l->email()}, std::string{l->external_id()},
                      {}, {}, id};
  auto& e = model_of(self, *l);
  auto& reg = *self->state.cfg->models;
  auto before = score_of(e.model, *l, l->engagement, now);
  bool changed = apply(*l, p);
  w.email = l->email();
  w.external_id = l->external_id();
  if (!changed) {
    if (answer)
      w.body = lead_answer(reg, *l, score_of(e.model, *l, l->engagement, now), e.version, now);
    return w;
  }
  l->updated_at = std::max(now, l->updated_at);
  note_drift(*l, e, before, now, ops);
  auto fields = patch_fields(p);
  auto s = note_change(*l, e, now, score_cause::field_change, fields, ops);
  auto score = score_json(reg, *l, s, e.version, now);
  feed_change(*l, feed_type::lead_updated, score, s.total, before.total, now,
              score_cause::field_change, fields, ops);
  note_published(self, *l);
  if (answer)
    w.body = lead_answer(*l, score);
  put_record(*l, l->unsaved_events > 0, ops);
  return w;
}

caf::result<msg::write_leads_outcome> write_leads(self_ptr self, msg::write_leads& m) {
  msg::write_leads_outcome out;
  out.items.reserve(m.items.size());
  std::vector<write_op> ops;
  ops.reserve(3 * m.items.size());
  std::vector<uint64_t> ids;
  {
    auto w = self->state.table->write_lock();
    for (auto& it : m.items) {
      auto before = ops.size();
      auto r = it.create ? create_one(self, m.org, it.id, it.patch, m.now, false, ops)
                         : update_one(self, m.org, it.id, it.patch, m.now, false, ops);
      auto& o = out.items.emplace_back();
      o.index = it.index;
      if (!r) {
        o.error = to_problem(r.error());
        continue;
      }
      o.created = r->created;
      o.changed = ops.size() > before;
      o.old_email = std::move(r->old_email);
      o.old_external_id = std::move(r->old_external_id);
      o.email = std::move(r->email);
      o.external_id = std::move(r->external_id);
      if (o.changed)
        ids.push_back(it.id);
    }
  }
  if (ops.empty())
    return out;
  return journal_write(self, std::move(ops), caf::make_message(std::move(out)), std::move(ids));
}

} // namespace shard_detail

} // namespace hotlead
