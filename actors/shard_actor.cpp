#include "actors/shard_actor.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "actors/shard_state.hpp"
#include "actors/stats.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "protocol/score.hpp"

namespace hotlead {

namespace shard_detail {

caf::error no_lead(uint64_t id) {
  return make_error(errc::not_found, "no lead with id " + id_to_hex(id));
}

// The lead of this org, or nullptr: another org's lead looks exactly missing.
lead* find(self_ptr self, uint64_t org, uint64_t id) {
  auto& leads = self->state.table->leads();
  auto i = leads.find(id);
  return i == leads.end() || i->second.org != org ? nullptr : &i->second;
}

void count_leads(self_ptr self, int64_t delta) {
  self->state.cfg->stats->leads[self->state.cfg->index] += delta;
}

// Hands `ops` to the journal; `pw` is settled once they are durable.
void journal_append(self_ptr self, std::vector<write_op> ops, pending_write pw) {
  auto token = self->state.next_token++;
  size_t writes = pw.sweep || pw.internal ? 0 : 1; // no client's write
  self->state.pending.emplace(token, std::move(pw));
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto done = [me, token, inbox = self->state.inbox](const std::optional<problem>& err) {
    bool wake = false;
    {
      std::lock_guard lock{inbox->mtx};
      inbox->done.emplace_back(token, err);
      wake = !std::exchange(inbox->notified, true);
    }
    if (wake)
      caf::anon_send(me, msg::committed_atom::value);
  };
  self->state.cfg->jr->append(std::move(ops), std::move(done), writes);
}

// Routed writes on their way to the journal: their answers go to their
// routes from the journal thread once durable; a failed commit comes back to
// the shard first (write_failed: roll back, then answer).
struct routed_batch {
  std::vector<write_op> ops;
  std::vector<reply_route> routes;
  std::vector<std::string> answers;
  std::vector<uint64_t> leads;
};

void journal_routed(self_ptr self, routed_batch b) {
  if (b.routes.empty())
    return;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto ops = std::move(b.ops);
  auto writes = b.routes.size();
  self->state.cfg->jr->append(
    std::move(ops), [me, b = std::make_shared<routed_batch>(std::move(b))](
                      const std::optional<problem>& err) {
      if (!err) {
        for (size_t i = 0; i < b->routes.size(); ++i)
          b->routes[i].deliver(std::move(b->answers[i]));
      } else {
        caf::anon_send(me, msg::write_failed{std::move(b->leads), std::move(b->routes), *err});
      }
    },
    writes);
}

// Hands `ops` to the journal; the promise is kept with `reply` once durable.
caf::response_promise journal_write(self_ptr self, std::vector<write_op> ops,
                                    caf::message reply, std::vector<uint64_t> leads) {
  auto rp = self->make_response_promise();
  journal_append(self, std::move(ops), pending_write{rp, std::move(reply), std::move(leads), false, {}});
  return rp;
}

write_op put_lead(const lead& l) {
  write_op op{write_op::put, keys::lead(l.id), {}};
  op.value.reserve(256);
  encode(op.value, l);
  return op;
}

// The lead record, written now: its tail is no longer needed, nor its
// marker (`marked`: stored by an earlier write).
void put_record(lead& l, bool marked, std::vector<write_op>& ops) {
  ops.push_back(put_lead(l));
  if (marked)
    ops.push_back({write_op::del, keys::tail(l.id), {}});
  if (l.score_apart) // the record carries the score state again
    ops.push_back({write_op::del, keys::score_state(l.id), {}});
  l.unsaved_events = 0;
  l.score_apart = false;
}

void put_score_state(lead& l, std::vector<write_op>& ops) {
  if (l.unsaved_events > 0) // the record is behind the lead's events: store it whole
    return put_record(l, true, ops);
  write_op op{write_op::put, keys::score_state(l.id), {}};
  op.value.reserve(16 + 12 * l.engagement.size());
  encode_score_state(op.value, l);
  ops.push_back(std::move(op));
  l.score_apart = true;
}

uint64_t tail_limit(self_ptr self) {
  return std::clamp<uint64_t>(self->state.cfg->max_events_per_lead, 1, max_tail_events);
}

// After a message recorded events on `l`, which had `before` unsaved events:
// the lead record is rewritten once the tail is long enough (the oldest
// events kept must include the whole tail), else a new tail is marked.
void settle(self_ptr self, lead& l, uint16_t before, std::vector<write_op>& ops) {
  if (l.unsaved_events >= tail_limit(self))
    put_record(l, before > 0, ops);
  else if (before == 0 && l.unsaved_events > 0) {
    ops.push_back({write_op::put, keys::tail(l.id), {}});
    self->state.tails.push_back(l.id);
  }
}

// Rewrites the next sweep_chunk leads of the sweep that still have a tail;
// the next chunk follows when this one is committed.
void sweep_step(self_ptr self) {
  auto& st = self->state;
  auto& leads = st.table->leads();
  std::vector<write_op> ops;
  size_t n = 0;
  while (st.sweep_pos < st.sweeping.size() && n < sweep_chunk) {
    auto i = leads.find(st.sweeping[st.sweep_pos++]);
    if (i == leads.end() || i->second.unsaved_events == 0)
      continue;
    put_record(i->second, true, ops);
    ++n;
  }
  if (ops.empty()) {
    st.sweeping.clear();
    st.sweep_pos = 0;
    return;
  }
  pending_write pw;
  pw.sweep = true;
  journal_append(self, std::move(ops), std::move(pw));
}

// Records the event (and its points) and appends its journal writes to
// `ops`; returns the lead's new score object (score_json).
std::string record(self_ptr self, lead& l, const event_input& ev, millis now,
                   std::vector<write_op>& ops) {
  auto& e = model_of(self, l);
  auto before = score_of(e.model, l, l.engagement, now);
  auto previous = before.total;
  note_drift(l, e, before, now, ops);
  record_event(l, ev);
  score_event(e.model, l, ev);
  if (l.unsaved_events < UINT16_MAX)
    ++l.unsaved_events;
  auto seq = l.event_seq - 1;
  ops.push_back({write_op::put, keys::event(l.id, seq), event_record(ev)});
  auto keep = self->state.cfg->max_events_per_lead;
  if (seq >= keep)
    ops.push_back({write_op::del, keys::event(l.id, seq - keep), {}});
  ++self->state.cfg->stats->events;
  auto s = note_change(l, e, now, score_cause::event, ev.type, ops);
  auto score = score_json(*self->state.cfg->models, l, s, e.version, now);
  feed_change(l, feed_type::lead_updated, score, s.total, previous, now, score_cause::event,
              ev.type, ops);
  note_published(self, l);
  return score;
}

// A write that could not be committed was already applied in memory: put
// its leads back to what RocksDB holds, so memory never shows a change that
// was not acknowledged (the next write starts from the stored state).
void roll_back(self_ptr self, const std::vector<uint64_t>& ids) {
  auto& leads = self->state.table->leads();
  for (auto id : ids) {
    auto& reg = *self->state.cfg->models;
    auto stored = self->state.cfg->db->get_lead( // with its tail replayed
      id, [&reg](lead& l, const event_input& ev) { replay_event(reg, l, ev); });
    auto w = self->state.table->write_lock();
    auto i = leads.find(id);
    if (stored) {
      if (i == leads.end())
        count_leads(self, 1);
      if (stored->unsaved_events > 0)
        self->state.tails.push_back(id);
      leads[id] = std::move(*stored);
    } else if (i != leads.end()) {
      leads.erase(i);
      count_leads(self, -1);
    }
  }
}

std::string event_answer(const lead& l, const event_input& ev, std::string_view score) {
  std::string out;
  out.reserve(120 + ev.type.size() + score.size());
  out += "{\"lead_id\":\"";
  append_id(out, l.id);
  out += "\",\"type\":";
  append_json_string(out, ev.type);
  out += ",\"ts\":\"";
  append_time(out, ev.ts);
  out += "\",\"events\":";
  out += std::to_string(l.event_seq);
  out += ",\"last_activity_at\":\"";
  append_time(out, l.last_activity_at);
  out += "\",\"score\":";
  out += score;
  out += '}';
  return out;
}

// One event on its lead: its journal writes into `ops` and its answer, or
// nullopt when the org has no such lead. The caller holds the write lock.
std::optional<std::string> add_one(self_ptr self, const msg::add_event& m,
                                   std::vector<write_op>& ops) {
  auto* l = find(self, m.org, m.id);
  if (!l)
    return std::nullopt;
  auto before = l->unsaved_events;
  auto now = now_ms();
  auto score = record(self, *l, m.event, now, ops);
  settle(self, *l, before, ops);
  return event_answer(*l, m.event, score);
}

// One routed event: recorded into `b`, or answered at once when refused.
// The caller holds the table's write lock.
void add_routed(self_ptr self, msg::add_event& m, routed_batch& b) {
  auto answer = add_one(self, m, b.ops);
  if (!answer)
    return m.route.deliver(problem{errc::not_found, "no lead with id " + id_to_hex(m.id)});
  b.answers.push_back(std::move(*answer));
  b.routes.push_back(std::move(m.route));
  b.leads.push_back(m.id);
}

msg::list_page list(self_ptr self, const list_query& q) {
  // Keep the best limit+1 matches in a heap ordered by the query.
  auto worse = [&q](const std::pair<sort_key, const lead*>& a,
                    const std::pair<sort_key, const lead*>& b) {
    return comes_before(a.first, b.first, q);
  };
  std::vector<std::pair<sort_key, const lead*>> heap;
  size_t want = q.limit + 1;
  for (auto& [id, l] : self->state.table->leads()) {
    if (!matches(l, q))
      continue;
    auto k = key_of(l, q.sort);
    if (q.has_cursor && !comes_before(q.after, k, q))
      continue;
    if (heap.size() < want) {
      heap.emplace_back(std::move(k), &l);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (comes_before(k, heap.front().first, q)) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = {std::move(k), &l};
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), worse);
  msg::list_page page;
  page.items.reserve(heap.size());
  auto now = now_ms();
  for (auto& [k, l] : heap) {
    auto& e = self->state.cfg->models->of(l->org, l->model_version);
    std::string body;
    write_scored_lead(body, *l, e.model, e.version, now,
                      self->state.cfg->models->predictive.predict(*l));
    page.items.emplace_back(std::move(k), std::move(body));
  }
  return page;
}


} // namespace shard_detail

using namespace shard_detail;

namespace {

caf::behavior shard_actor(caf::stateful_actor<shard_state>* self,
                          std::shared_ptr<shard_init> init) {
  self->state.table = init->table;
  self->state.tails = std::move(init->tails);
  self->state.cfg = std::move(init);
  self->set_default_handler(caf::drop);
  self->delayed_send(self, self->state.cfg->sweep_interval, msg::sweep_atom::value);
  rescore_stale(self); // leads off their org's active model version, first
  return {
    [=](const msg::get_lead& m) -> caf::result<std::string> {
      auto* l = find(self, m.org, m.id);
      if (!l)
        return no_lead(m.id);
      return lead_json(*l);
    },
    [=](msg::create_lead& m) -> caf::result<msg::lead_written> {
      std::vector<write_op> ops;
      auto w = self->state.table->write_lock();
      auto r = create_one(self, m.org, m.id, m.patch, m.now, true, ops);
      if (!r)
        return std::move(r.error());
      return journal_write(self, std::move(ops), caf::make_message(std::move(*r)), {m.id});
    },
    [=](msg::update_lead& m) -> caf::result<msg::lead_written> {
      std::vector<write_op> ops;
      auto w = self->state.table->write_lock();
      auto r = update_one(self, m.org, m.id, m.patch, m.now, true, ops);
      if (!r)
        return std::move(r.error());
      if (ops.empty()) // nothing changed
        return std::move(*r);
      return journal_write(self, std::move(ops), caf::make_message(std::move(*r)), {m.id});
    },
    [=](msg::write_leads& m) { return write_leads(self, m); },
    [=](const msg::remove_lead& m) -> caf::result<msg::lead_written> {
      auto* l = find(self, m.org, m.id);
      if (!l)
        return no_lead(m.id);
      msg::lead_written w{false, {}, std::string{l->email()}, std::string{l->external_id()},
                          {}, {}, m.id};
      std::vector<write_op> ops{{write_op::del, keys::lead(m.id), {}},
                                {write_op::del_range, keys::event(m.id, 0),
                                 keys::events_end(m.id)},
                                {write_op::del, keys::tail(m.id), {}},
                                {write_op::del, keys::score_state(m.id), {}},
                                {write_op::del_range, keys::history(m.id, 0),
                                 keys::history_end(m.id)}};
      feed_change(*l, feed_type::lead_deleted, {}, l->scored_total, l->scored_total, now_ms(),
                  score_cause::field_change, "", ops);
      {
        auto w = self->state.table->write_lock();
        self->state.table->leads().erase(m.id);
      }
      count_leads(self, -1);
      return journal_write(self, std::move(ops), caf::make_message(std::move(w)), {m.id});
    },
    [=](msg::add_event& m) -> caf::result<std::string> {
      if (m.route) {
        routed_batch b;
        {
          auto w = self->state.table->write_lock();
          add_routed(self, m, b);
        }
        journal_routed(self, std::move(b));
        return caf::delegated<std::string>{};
      }
      std::vector<write_op> ops;
      auto w = self->state.table->write_lock();
      auto answer = add_one(self, m, ops);
      if (!answer)
        return no_lead(m.id);
      return journal_write(self, std::move(ops), caf::make_message(std::move(*answer)),
                           {m.id});
    },
    [=](msg::add_event_burst& m) {
      routed_batch b;
      b.ops.reserve(2 * m.items.size());
      auto w = self->state.table->write_lock();
      for (auto& item : m.items)
        add_routed(self, item, b);
      w.unlock();
      journal_routed(self, std::move(b));
    },
    [=](msg::write_failed& m) {
      roll_back(self, m.leads);
      for (auto& r : m.routes)
        r.deliver(m.error);
    },
    [=](msg::add_events& m) -> caf::result<msg::batch_outcome> {
      msg::batch_outcome out;
      std::vector<write_op> ops;
      std::unordered_map<lead*, uint16_t> touched; // with their unsaved events before
      auto now = now_ms();
      auto w = self->state.table->write_lock();
      for (size_t i = 0; i < m.ids.size(); ++i) {
        auto* l = find(self, m.org, m.ids[i]);
        if (!l) {
          out.errors.emplace_back(m.index[i],
                                  problem{errc::not_found, "no lead with id " + id_to_hex(m.ids[i])});
          continue;
        }
        touched.try_emplace(l, l->unsaved_events);
        record(self, *l, m.events[i], now, ops);
        ++out.accepted;
      }
      if (ops.empty())
        return out;
      std::vector<uint64_t> ids;
      for (auto [l, before] : touched) {
        settle(self, *l, before, ops);
        ids.push_back(l->id);
      }
      return journal_write(self, std::move(ops), caf::make_message(std::move(out)),
                           std::move(ids));
    },
    [=](const msg::list_leads& m) -> msg::list_page { return list(self, m.query); },
    [=](msg::rescore& m) { start_rescore(self, m); },
    [=](msg::rescore_atom) { rescore_step(self); },
    [=](msg::replay_events& m) { apply_replay(self, m); },
    [=](const msg::preview_scores& m) -> msg::preview_part { return preview(self, m); },
    [=](msg::sweep_atom) {
      self->delayed_send(self, self->state.cfg->sweep_interval, msg::sweep_atom::value);
      decay_tick(self);
      auto& st = self->state;
      if (!st.sweeping.empty() || st.tails.empty())
        return; // the last sweep is still going, or nothing to do
      st.sweeping.swap(st.tails);
      st.sweep_pos = 0;
      sweep_step(self);
    },
    [=](msg::decay_atom) { decay_step(self); },
    [=](msg::committed_atom) {
      std::vector<std::pair<uint64_t, std::optional<problem>>> done;
      {
        auto& inbox = *self->state.inbox;
        std::lock_guard lock{inbox.mtx};
        done.swap(inbox.done);
        inbox.notified = false;
      }
      for (auto& [token, err] : done) {
        auto i = self->state.pending.find(token);
        if (i == self->state.pending.end())
          continue;
        auto pw = std::move(i->second);
        self->state.pending.erase(i);
        if (pw.internal) {
          pw.internal(err);
        } else if (pw.sweep) {
          if (err) { // the journal refuses writes now; recovery replays the tails
            self->state.sweeping.clear();
            self->state.sweep_pos = 0;
          } else {
            sweep_step(self);
          }
        } else if (err) {
          roll_back(self, pw.leads);
          pw.promise.deliver(make_error(*err));
        } else {
          pw.promise.deliver(std::move(pw.reply));
        }
      }
    },
  };
}

} // namespace

caf::actor spawn_shard(caf::actor_system& sys, std::shared_ptr<shard_init> init) {
  return sys.spawn(shard_actor, std::move(init));
}

} // namespace hotlead
