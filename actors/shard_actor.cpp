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
#include "actors/stats.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "protocol/score.hpp"

namespace hotlead {

// A write in flight: the promise to keep once the journal has it.
struct pending_write {
  caf::response_promise promise;
  caf::message reply;
  std::vector<uint64_t> leads; // changed in memory by this write
  bool sweep = false;          // a chunk of lead records rewritten by the sweep
  // A chunk of a re-score (no client's write): told how it went.
  std::function<void(const std::optional<problem>&)> internal;
};

// How many score history entries a lead keeps ('H' keys); older ones are deleted.
constexpr uint64_t max_history = 100;

// A re-score of one org's leads in this shard (msg::rescore).
struct rescore_run {
  uint64_t org = 0;
  uint32_t version = 0;
  std::shared_ptr<job> run;
  std::vector<uint64_t> ids; // the leads to re-score, and how far it got
  size_t pos = 0;
  std::unordered_map<uint32_t, std::vector<int>> maps; // from version -> carry_map
  struct replay {
    std::vector<bool> only; // the rules to rebuild
    uint64_t until = 0;     // events before this seq (later ones were scored live)
    centipoints before = 0; // the total before the re-score (for history)
  };
  std::unordered_map<uint64_t, replay> replays;
  size_t chunks_in_flight = 0;
  bool replaying = false, scanned = false;
};
constexpr size_t rescore_chunk = 2048;

// Lead records and their event tails. An event writes its event record, not
// the whole lead: the lead record is rewritten once its tail reaches
// max_tail_events (in the same batch as that event) or by the sweep, which
// rewrites every lead with a tail each sweep_interval (2 s), sweep_chunk leads
// per commit. While a lead has a tail its 'D' marker is stored (keys.hpp), and
// start-up replays the tail (store::replay_tail). So a lead's memory state is
// always the stored record plus its stored tail, and an event costs one
// small record instead of the ~600-byte lead (docs/PERFORMANCE.md).
constexpr uint64_t max_tail_events = 32;
constexpr size_t sweep_chunk = 256;

// Commit results on their way from the journal thread to the shard. The
// journal reports every write; only the first report after the shard last
// drained the inbox sends a message, so a group commit of many writes costs
// the shard one wake-up, not one per write.
struct commit_inbox {
  std::mutex mtx;
  std::vector<std::pair<uint64_t, std::optional<problem>>> done;
  bool notified = false;
};

struct shard_state {
  std::shared_ptr<shard_init> cfg;
  std::shared_ptr<commit_inbox> inbox = std::make_shared<commit_inbox>();
  std::shared_ptr<lead_table> table;
  std::unordered_map<uint64_t, pending_write> pending;
  uint64_t next_token = 1;
  std::vector<uint64_t> tails;    // leads that got a tail since the last sweep (may repeat)
  std::vector<uint64_t> sweeping; // the sweep in progress, and how far it got
  size_t sweep_pos = 0;
  std::vector<std::shared_ptr<rescore_run>> rescores; // running; the first one steps
  static inline const char* name = "shard";
};

namespace {

using self_ptr = caf::stateful_actor<shard_state>*;

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

// -- scoring ------------------------------------------------------------------

// The model the lead's engagement state is in terms of; a lead with none
// yet (new, or from before scoring) starts on the org's active version.
const model_entry& model_of(const model_registry& reg, lead& l) {
  if (l.model_version != 0)
    if (auto* e = reg.find(l.org, l.model_version))
      return *e;
  auto& e = reg.active(l.org);
  l.model_version = e.version;
  l.engagement.clear();
  return e;
}

const model_entry& model_of(self_ptr self, lead& l) {
  return model_of(*self->state.cfg->models, l);
}

// Appends one score history entry of `l` to `ops` (and drops the oldest
// beyond max_history); the entry's total becomes the lead's scored_total.
void add_history(lead& l, millis at, score_cause cause, std::string_view detail,
                 const score& s, uint32_t version, std::vector<write_op>& ops) {
  std::string v;
  v.reserve(200);
  keys::put_be64(v, static_cast<uint64_t>(s.total));
  write_history_entry(v, at, cause, detail, s, s.total - l.scored_total, version);
  ops.push_back({write_op::put, keys::history(l.id, l.history_seq), std::move(v)});
  if (l.history_seq >= max_history)
    ops.push_back({write_op::del, keys::history(l.id, l.history_seq - max_history), {}});
  ++l.history_seq;
  l.scored_total = s.total;
}

// The score before a change, at `now`: when it drifted from the last
// history entry (engagement decays), that drift is an entry of its own.
void note_decay(lead& l, const model_entry& e, millis now, std::vector<write_op>& ops) {
  if (l.history_seq == 0)
    return;
  auto before = score_of(e.model, l, l.engagement, now);
  if (before.total != l.scored_total)
    add_history(l, now, score_cause::decay, "", before, e.version, ops);
}

// The score after a change; a history entry when the total moved (or the
// lead is new).
score note_change(lead& l, const model_entry& e, millis now, score_cause cause,
                  std::string_view detail, std::vector<write_op>& ops) {
  auto after = score_of(e.model, l, l.engagement, now);
  if (after.total != l.scored_total || l.history_seq == 0)
    add_history(l, now, cause, detail, after, e.version, ops);
  return after;
}

// The lead object with `s` as its score.
std::string lead_answer(const lead& l, const score& s, uint32_t version, millis now) {
  std::string out;
  out.reserve(lead_json_bound(l) + 200 + 60 * s.factors.size());
  write_lead(out, l);
  out.pop_back();
  out += ",\"score\":";
  write_score(out, s, version, now);
  out += '}';
  return out;
}

// The names of the fields a patch sets (the detail of a field_change entry).
std::string patch_fields(const lead_patch& p) {
  std::string out;
  auto add = [&out](bool present, std::string_view name) {
    if (!present)
      return;
    if (!out.empty())
      out += ',';
    out += name;
  };
  add(p.external_id.present, "external_id");
  add(p.email.present, "email");
  add(p.first_name.present, "first_name");
  add(p.last_name.present, "last_name");
  add(p.company.present, "company");
  add(p.title.present, "title");
  add(p.phone.present, "phone");
  add(p.owner.present, "owner");
  add(p.source.present, "source");
  add(p.status.present, "status");
  add(p.tags.present, "tags");
  for (auto& [name, v] : p.attributes) {
    if (out.size() > 200)
      break;
    add(true, "attributes." + name);
  }
  return out;
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
  journal_append(self, std::move(ops), pending_write{rp, std::move(reply), std::move(leads)});
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
  l.unsaved_events = 0;
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
// `ops`; returns the lead's new score.
score record(self_ptr self, lead& l, const event_input& ev, millis now,
             std::vector<write_op>& ops) {
  auto& e = model_of(self, l);
  note_decay(l, e, now, ops);
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
  return note_change(l, e, now, score_cause::event, ev.type, ops);
}

// A write that could not be committed was already applied in memory: put
// its leads back to what RocksDB holds, so memory never shows a change that
// was not acknowledged (the next write starts from the stored state).
void roll_back(self_ptr self, const std::vector<uint64_t>& ids) {
  auto& leads = self->state.table->leads();
  for (auto id : ids) {
    auto& reg = *self->state.cfg->models;
    auto stored = self->state.cfg->db->get_lead(id, [&reg](lead& l, const event_input& ev) {
      record_event(l, ev);
      score_event(model_of(reg, l).model, l, ev);
    }); // with its tail replayed
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

std::string event_answer(const lead& l, const event_input& ev, const score& s, millis now) {
  std::string out;
  out.reserve(300 + 60 * s.factors.size());
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
  write_score(out, s, l.model_version, now);
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
  auto s = record(self, *l, m.event, now, ops);
  settle(self, *l, before, ops);
  return event_answer(*l, m.event, s, now);
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

// -- re-scoring (a model activation) -------------------------------------------------

void rescore_step(self_ptr self);

// Moves one lead to the run's model version: the engagement state of rules
// that did not change carries over; rules that need the lead's stored
// events wait for the replay (which then writes its record and history).
void rescore_lead(self_ptr self, rescore_run& run, lead& l, millis now,
                  std::vector<write_op>& ops) {
  auto& reg = *self->state.cfg->models;
  auto* to = reg.find(run.org, run.version);
  const model_entry* from = l.model_version ? reg.find(l.org, l.model_version) : nullptr;
  centipoints before = l.scored_total;
  std::vector<bool> only;
  if (from) {
    auto b = score_of(from->model, l, l.engagement, now);
    before = b.total;
    if (l.history_seq > 0 && b.total != l.scored_total)
      add_history(l, now, score_cause::decay, "", b, from->version, ops);
    auto [it, fresh] = run.maps.try_emplace(from->version);
    if (fresh)
      it->second = carry_map(from->model, to->model);
    carry_state(l.engagement, it->second);
    only = replay_rules(to->model, it->second, l);
  } else { // a lead from before scoring (or of an unknown version): rebuild all
    l.engagement.clear();
    if (!l.counters.empty())
      only.assign(to->model.engagement.size(), true);
  }
  l.model_version = to->version;
  if (!only.empty()) {
    run.replays[l.id] = {std::move(only), l.event_seq, before};
    return;
  }
  note_change(l, *to, now, score_cause::model_change, "version " + std::to_string(to->version),
              ops);
  put_record(l, l.unsaved_events > 0, ops);
}

// Journals a chunk of re-scored lead records; `leads` count as persisted
// once it is durable.
void rescore_journal(self_ptr self, const std::shared_ptr<rescore_run>& run,
                     std::vector<write_op> ops, uint64_t leads) {
  if (ops.empty()) {
    if (run->run)
      run->run->persisted += leads;
    return;
  }
  ++run->chunks_in_flight;
  pending_write pw;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  pw.internal = [self, run, leads](const std::optional<problem>& err) {
    --run->chunks_in_flight;
    if (run->run) {
      if (err && !run->run->failed.load()) {
        run->run->error = "a chunk of re-scored leads could not be stored (" + err->detail +
                          "); memory has the new scores, a restart re-scores the rest";
        run->run->failed = true;
      }
      if (!err)
        run->run->persisted += leads;
    }
    rescore_step(self); // maybe the run is complete now
  };
  journal_append(self, std::move(ops), std::move(pw));
}

// The stored events of the leads a run must replay, read on a thread of
// its own (one RocksDB iterator) and sent to the shard in chunks.
void replayer(caf::blocking_actor* self, store* db, caf::actor shard, msg::replay_events proto,
              std::vector<std::pair<uint64_t, uint64_t>> leads) { // (lead, until)
  std::sort(leads.begin(), leads.end());
  msg::replay_events batch = proto;
  size_t events = 0;
  db->visit_events_of(leads, [&](uint64_t lead_id, std::vector<event_input>&& evs) {
    events += evs.size();
    batch.items.push_back({lead_id, std::move(evs)});
    if (batch.items.size() >= 256 || events >= 65536) {
      self->send(shard, std::move(batch));
      batch = proto;
      events = 0;
    }
  });
  batch.last = true;
  self->send(shard, std::move(batch));
}

// The run is complete when every lead is re-scored and stored.
void maybe_finish(self_ptr self) {
  auto& st = self->state;
  if (st.rescores.empty())
    return;
  auto run = st.rescores.front();
  if (run->pos < run->ids.size() || run->replaying || run->chunks_in_flight > 0)
    return;
  if (!run->replays.empty() && !run->scanned) { // start the replay
    run->replaying = true;
    run->scanned = true;
    std::vector<std::pair<uint64_t, uint64_t>> leads;
    for (auto& [id, r] : run->replays)
      leads.emplace_back(id, r.until);
    msg::replay_events proto{run->org, run->version, run->run, {}, false};
    self->spawn<caf::detached>(replayer, st.cfg->db, caf::actor_cast<caf::actor>(self), proto,
                               std::move(leads));
    return;
  }
  st.rescores.erase(st.rescores.begin());
  if (run->run)
    run->run->part_done();
  if (!st.rescores.empty())
    self->send(self, msg::rescore_atom::value);
}

void rescore_step(self_ptr self) {
  auto& st = self->state;
  if (st.rescores.empty())
    return;
  auto run = st.rescores.front();
  if (run->pos >= run->ids.size())
    return maybe_finish(self);
  auto& leads = st.table->leads();
  std::vector<write_op> ops;
  uint64_t written = 0, skipped = 0;
  auto now = now_ms();
  {
    auto w = st.table->write_lock();
    size_t end = std::min(run->ids.size(), run->pos + rescore_chunk);
    for (; run->pos < end; ++run->pos) {
      auto i = leads.find(run->ids[run->pos]);
      if (i == leads.end() || i->second.org != run->org || i->second.model_version == run->version) {
        ++skipped;
        continue;
      }
      auto before = ops.size();
      rescore_lead(self, *run, i->second, now, ops);
      if (ops.size() > before)
        ++written;
      else if (!run->replays.count(i->second.id))
        ++skipped;
    }
  }
  if (run->run) {
    run->run->done += written + skipped;
    run->run->persisted += skipped;
  }
  rescore_journal(self, run, std::move(ops), written);
  if (run->pos < run->ids.size())
    self->send(self, msg::rescore_atom::value); // the next chunk, after other messages
  else
    maybe_finish(self);
}

// Applies replayed events to leads of the current run.
void apply_replay(self_ptr self, msg::replay_events& m) {
  auto& st = self->state;
  if (st.rescores.empty() || st.rescores.front()->org != m.org ||
      st.rescores.front()->version != m.version)
    return;
  auto run = st.rescores.front();
  auto* to = st.cfg->models->find(m.org, m.version);
  std::vector<write_op> ops;
  uint64_t written = 0, skipped = 0;
  auto now = now_ms();
  // Applies the events (only those before the carry: the replayer saw to
  // it) to the rules being rebuilt, then stores the lead and its history.
  auto finish_lead = [&](uint64_t id, const rescore_run::replay& r,
                         const std::vector<event_input>& events) {
    auto* l = find(self, m.org, id);
    if (!l || l->model_version != m.version || !to) {
      ++skipped;
      return;
    }
    for (auto& ev : events)
      score_event(to->model, *l, ev, &r.only);
    note_change(*l, *to, now, score_cause::model_change,
                "version " + std::to_string(to->version), ops);
    put_record(*l, l->unsaved_events > 0, ops);
    ++written;
  };
  {
    auto w = st.table->write_lock();
    for (auto& item : m.items) {
      auto r = run->replays.find(item.lead);
      if (r == run->replays.end())
        continue;
      finish_lead(item.lead, r->second, item.events);
      run->replays.erase(r);
    }
    if (m.last) { // leads the scan found no events for (they were all deleted)
      for (auto& [id, r] : run->replays)
        finish_lead(id, r, {});
      run->replays.clear();
    }
  }
  if (run->run) {
    run->run->done += written + skipped;
    run->run->replayed += written;
    run->run->persisted += skipped;
  }
  rescore_journal(self, run, std::move(ops), written);
  if (m.last) {
    run->replaying = false;
    maybe_finish(self);
  }
}

msg::preview_part preview(self_ptr self, const msg::preview_scores& m) {
  msg::preview_part out;
  auto& reg = *self->state.cfg->models;
  auto& proposed = *m.model;
  std::unordered_map<uint32_t, std::vector<int>> maps;
  auto now = now_ms();
  auto bucket = [](const scoring_model& md, centipoints t) {
    auto span = std::max<centipoints>(md.max - md.min, 1);
    auto b = (t - md.min) * static_cast<centipoints>(msg::preview_part::buckets) / span;
    return static_cast<size_t>(std::clamp<centipoints>(b, 0, msg::preview_part::buckets - 1));
  };
  auto grade = [](char g) { return static_cast<size_t>(std::clamp(g - 'A', 0, 3)); };
  for (auto& [id, l] : self->state.table->leads()) {
    if (l.org != m.org)
      continue;
    auto* cur = reg.find(l.org, l.model_version);
    if (!cur)
      cur = &reg.active(l.org);
    auto a = score_of(cur->model, l, l.engagement, now);
    auto [it, fresh] = maps.try_emplace(cur->version);
    if (fresh)
      it->second = carry_map(cur->model, proposed);
    auto state = l.engagement;
    carry_state(state, it->second);
    if (!replay_rules(proposed, it->second, l).empty())
      ++out.estimated;
    auto b = score_of(proposed, l, state, now);
    ++out.leads;
    ++out.current.grades[grade(a.grade)];
    ++out.proposed.grades[grade(b.grade)];
    ++out.current.histogram[bucket(cur->model, a.total)];
    ++out.proposed.histogram[bucket(proposed, b.total)];
    out.current.sum += a.total;
    out.proposed.sum += b.total;
    if (a.grade != b.grade)
      ++out.grade_changes;
  }
  return out;
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
    auto& reg = *self->state.cfg->models;
    auto* e = reg.find(l->org, l->model_version);
    std::string body;
    write_scored_lead(body, *l, (e ? *e : reg.active(l->org)).model,
                      e ? e->version : reg.active(l->org).version, now);
    page.items.emplace_back(std::move(k), std::move(body));
  }
  return page;
}

} // namespace

namespace {

caf::behavior shard_actor(caf::stateful_actor<shard_state>* self,
                          std::shared_ptr<shard_init> init) {
  self->state.table = init->table;
  self->state.tails = std::move(init->tails);
  self->state.cfg = std::move(init);
  self->set_default_handler(caf::drop);
  self->delayed_send(self, self->state.cfg->sweep_interval, msg::sweep_atom::value);
  { // Leads not on their org's active model (a re-score a restart cut short,
    // or records from before scoring) are re-scored first.
    std::unordered_map<uint64_t, uint32_t> stale;
    auto& reg = *self->state.cfg->models;
    for (auto& [id, l] : self->state.table->leads()) {
      auto v = reg.active(l.org).version;
      if (l.model_version != v)
        stale.emplace(l.org, v);
    }
    for (auto [org, v] : stale)
      self->send(self, msg::rescore{org, v, nullptr});
  }
  return {
    [=](const msg::get_lead& m) -> caf::result<std::string> {
      auto* l = find(self, m.org, m.id);
      if (!l)
        return no_lead(m.id);
      return lead_json(*l);
    },
    [=](msg::create_lead& m) -> caf::result<msg::lead_written> {
      auto w = self->state.table->write_lock();
      auto [it, fresh] = self->state.table->leads().try_emplace(m.id);
      if (!fresh)
        return make_error(errc::internal, "lead id collision; retry the request");
      auto& l = it->second;
      l.id = m.id;
      l.org = m.org;
      apply(l, m.patch);
      l.created_at = l.updated_at = m.now;
      count_leads(self, 1);
      std::vector<write_op> ops;
      auto& e = model_of(self, l);
      auto s = note_change(l, e, m.now, score_cause::created, "", ops);
      ops.insert(ops.begin(), put_lead(l)); // after note_change: the record has history_seq
      msg::lead_written r{true, lead_answer(l, s, e.version, m.now), {}, {},
                          std::string{l.email()}, std::string{l.external_id()}, m.id};
      return journal_write(self, std::move(ops), caf::make_message(std::move(r)), {m.id});
    },
    [=](msg::update_lead& m) -> caf::result<msg::lead_written> {
      auto* l = find(self, m.org, m.id);
      if (!l)
        return no_lead(m.id);
      if (auto n = attributes_after(*l, m.patch); n > self->state.cfg->lim.max_attributes)
        return make_error(errc::invalid_field,
                          "the lead would have " + std::to_string(n) + " attributes; at most " +
                            std::to_string(self->state.cfg->lim.max_attributes) +
                            " are allowed (limits.max_attributes); remove some with null");
      msg::lead_written w{false, {}, std::string{l->email()}, std::string{l->external_id()},
                          {}, {}, m.id};
      auto lock = self->state.table->write_lock();
      std::vector<write_op> ops;
      auto& e = model_of(self, *l);
      auto before = score_of(e.model, *l, l->engagement, m.now);
      bool changed = apply(*l, m.patch);
      w.email = l->email();
      w.external_id = l->external_id();
      if (!changed) {
        w.body = lead_answer(*l, score_of(e.model, *l, l->engagement, m.now), e.version, m.now);
        return w;
      }
      l->updated_at = std::max(m.now, l->updated_at);
      if (l->history_seq > 0 && before.total != l->scored_total) // decay since the last entry
        add_history(*l, m.now, score_cause::decay, "", before, e.version, ops);
      auto s = note_change(*l, e, m.now, score_cause::field_change, patch_fields(m.patch), ops);
      w.body = lead_answer(*l, s, e.version, m.now);
      put_record(*l, l->unsaved_events > 0, ops);
      return journal_write(self, std::move(ops), caf::make_message(std::move(w)), {m.id});
    },
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
                                {write_op::del_range, keys::history(m.id, 0),
                                 keys::history_end(m.id)}};
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
    [=](msg::rescore& m) {
      auto run = std::make_shared<rescore_run>();
      run->org = m.org;
      run->version = m.version;
      run->run = m.run;
      for (auto& [id, l] : self->state.table->leads())
        if (l.org == m.org)
          run->ids.push_back(id);
      if (run->run)
        run->run->total += run->ids.size();
      self->state.rescores.push_back(std::move(run));
      if (self->state.rescores.size() == 1)
        rescore_step(self);
    },
    [=](msg::rescore_atom) { rescore_step(self); },
    [=](msg::replay_events& m) { apply_replay(self, m); },
    [=](const msg::preview_scores& m) -> msg::preview_part { return preview(self, m); },
    [=](msg::sweep_atom) {
      self->delayed_send(self, self->state.cfg->sweep_interval, msg::sweep_atom::value);
      auto& st = self->state;
      if (!st.sweeping.empty() || st.tails.empty())
        return; // the last sweep is still going, or nothing to do
      st.sweeping.swap(st.tails);
      st.sweep_pos = 0;
      sweep_step(self);
    },
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
