// Scoring inside a shard (issue 3): the score and its history entries on
// each write, re-score jobs when an org activates a model version (carry
// the state of unchanged engagement rules, replay stored events for the
// rest), and previews of a proposed model. See shard_state.hpp.
#include <algorithm>

#include "actors/model_registry.hpp"
#include "actors/shard_state.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/json_out.hpp"
#include "protocol/time.hpp"
#include "protocol/ids.hpp"

namespace hotlead::shard_detail {

const model_entry& model_of(self_ptr self, lead& l) {
  auto& reg = *self->state.cfg->models;
  if (l.model_version != 0)
    if (auto* e = reg.find(l.org, l.model_version))
      return *e;
  auto& e = reg.active(l.org);
  l.model_version = e.version;
  l.engagement.clear();
  return e;
}

// Appends one score history entry of `l` to `ops` (and drops the oldest
// beyond max_history); the entry's total becomes the lead's scored_total.
void add_history(lead& l, millis at, score_cause cause, std::string_view detail,
                 const score& s, uint32_t version, std::vector<write_op>& ops) {
  std::string v;
  v.reserve(48 + detail.size());
  keys::put_be64(v, static_cast<uint64_t>(s.total));
  encode_history(v, at, cause, detail, s, s.total - l.scored_total, version);
  ops.push_back({write_op::put, keys::history(l.id, l.history_seq), std::move(v)});
  if (l.history_seq >= max_history)
    ops.push_back({write_op::del, keys::history(l.id, l.history_seq - max_history), {}});
  ++l.history_seq;
  l.scored_total = s.total;
}

// `before` is the score ahead of a change, at `now`: when it drifted from
// the last history entry (engagement decays), that drift is an entry of its own.
void note_drift(lead& l, const model_entry& e, const score& before, millis now,
                std::vector<write_op>& ops) {
  if (l.history_seq > 0 && before.total != l.scored_total)
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

std::string score_json(const model_registry& reg, const lead& l, const score& s,
                       uint32_t version, millis now) {
  std::string out;
  out.reserve(200 + 60 * s.factors.size());
  write_score(out, s, version, now, reg.predictive.predict(l));
  return out;
}

void feed_change(const lead& l, feed_type type, std::string_view score, int64_t total,
                 int64_t previous, millis now, score_cause cause, std::string_view detail,
                 std::vector<write_op>& ops) {
  std::string m;
  m.reserve(120 + detail.size() + score.size());
  m += "\"type\":\"";
  m += feed_type_name(type);
  m += "\",\"lead_id\":\"";
  append_id(m, l.id);
  m += "\",\"at\":\"";
  append_time(m, now);
  m += '"';
  if (!score.empty()) {
    m += ",\"cause\":\"";
    m += to_string(cause);
    m += "\",\"detail\":";
    append_json_string(m, detail);
    m += ",\"previous_total\":";
    m += format_points(previous);
    m += ",\"score\":";
    m += score;
  }
  ops.push_back({write_op::feed, feed_op_key(l.org, l.id, type, total, previous), std::move(m)});
}

std::string lead_answer(const lead& l, std::string_view score) {
  std::string out;
  out.reserve(lead_json_bound(l) + 12 + score.size());
  write_lead(out, l);
  out.pop_back();
  out += ",\"score\":";
  out += score;
  out += '}';
  return out;
}

// The lead object with `s` as its score.
std::string lead_answer(const model_registry& reg, const lead& l, const score& s,
                        uint32_t version, millis now) {
  return lead_answer(l, score_json(reg, l, s, version, now));
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

// -- re-scoring (a model activation) -------------------------------------------------

namespace {

// A lead's score on the run's version, in its history and score state, and
// sent when it crossed a watched threshold.
void finish_rescore(self_ptr self, const rescore_run& run, lead& l, millis now,
                    std::vector<write_op>& ops) {
  auto published = l.scored_total;
  auto detail = "version " + std::to_string(run.to->version);
  auto s = note_change(l, *run.to, now, score_cause::model_change, detail, ops);
  publish_score_move(self, l, *run.to, s, published, now, score_cause::model_change, detail,
                     run.watched, ops);
  put_score_state(l, ops);
}

// Moves one lead to the run's model version: the engagement state of rules
// that did not change carries over, and its record and history are written
// (true); rules that need the lead's stored events wait for the replay,
// which then writes them (false).
bool rescore_lead(self_ptr self, rescore_run& run, lead& l, millis now,
                  std::vector<write_op>& ops) {
  const model_entry* to = run.to;
  const model_entry* from =
    l.model_version ? self->state.cfg->models->find(l.org, l.model_version) : nullptr;
  std::vector<bool> only;
  if (from) {
    // Decay up to now first, sent when it crosses a watched threshold (the
    // score may move silently only where no view would see a crossing).
    auto published = l.scored_total;
    auto decayed = score_of(from->model, l, l.engagement, now);
    note_drift(l, *from, decayed, now, ops);
    publish_score_move(self, l, *from, decayed, published, now, score_cause::decay, "",
                       run.watched, ops);
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
    run.replays[l.id] = {std::move(only), l.event_seq};
    return false;
  }
  finish_rescore(self, run, l, now, ops);
  return true;
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
  pw.internal = [self, run, leads](const std::optional<problem>& err) {
    --run->chunks_in_flight;
    if (run->run) {
      if (err)
        run->run->fail("a chunk of re-scored leads could not be stored (" + err->detail +
                       "); memory has the new scores, a restart re-scores the rest");
      else
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

} // namespace

void rescore_step(self_ptr self) {
  auto& st = self->state;
  if (st.rescores.empty())
    return;
  auto run = st.rescores.front();
  if (run->pos >= run->ids.size())
    return maybe_finish(self);
  auto& leads = st.table->leads();
  std::vector<write_op> ops;
  ops.reserve(3 * rescore_chunk); // a score record and one or two history entries per lead
  uint64_t written = 0, skipped = 0;
  auto now = now_ms();
  run->watched = watched_rules(self, run->org);
  {
    auto w = st.table->write_lock();
    size_t end = std::min(run->ids.size(), run->pos + rescore_chunk);
    for (; run->pos < end; ++run->pos) {
      auto i = leads.find(run->ids[run->pos]);
      if (i == leads.end() || i->second.org != run->org || i->second.model_version == run->version) {
        ++skipped;
        continue;
      }
      if (rescore_lead(self, *run, i->second, now, ops))
        ++written;
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
  auto* to = run->to;
  std::vector<write_op> ops;
  uint64_t written = 0, skipped = 0;
  auto now = now_ms();
  run->watched = watched_rules(self, run->org);
  // Applies the events (only those before the carry: the replayer saw to
  // it) to the rules being rebuilt, then stores the lead and its history.
  auto finish_lead = [&](uint64_t id, const rescore_run::replay& r,
                         const std::vector<event_input>& events) {
    auto* l = find(self, m.org, id);
    if (!l || l->model_version != m.version) {
      ++skipped;
      return;
    }
    for (auto& ev : events)
      score_event(to->model, *l, ev, &r.only);
    finish_rescore(self, *run, *l, now, ops);
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
    auto* cur = &reg.of(l.org, l.model_version);
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

void start_rescore(self_ptr self, msg::rescore& m) {
  auto run = std::make_shared<rescore_run>();
  run->org = m.org;
  run->version = m.version;
  run->to = self->state.cfg->models->find(m.org, m.version);
  if (!run->to) { // cannot happen: the org actor adds a version before activating it
    if (m.run) {
      m.run->fail("model version " + std::to_string(m.version) + " is unknown");
      m.run->part_done();
    }
    return;
  }
  run->run = m.run;
  for (auto& [id, l] : self->state.table->leads())
    if (l.org == m.org)
      run->ids.push_back(id);
  // In id order, each chunk's history keys are ascending: RocksDB's skiplist
  // memtable inserts a run of ascending keys next to the previous one
  // instead of searching from the top (half the journal's time at 1M leads).
  std::sort(run->ids.begin(), run->ids.end());
  if (run->run)
    run->run->total += run->ids.size();
  self->state.rescores.push_back(std::move(run));
  if (self->state.rescores.size() == 1)
    rescore_step(self);
}

void rescore_stale(self_ptr self) {
  // Leads not on their org's active version: a re-score a restart cut
  // short, or records from before scoring.
  std::unordered_map<uint64_t, uint32_t> active, stale; // org -> version
  auto& reg = *self->state.cfg->models;
  for (auto& [id, l] : self->state.table->leads()) {
    auto [it, fresh] = active.try_emplace(l.org);
    if (fresh)
      it->second = reg.active(l.org).version;
    if (l.model_version != it->second)
      stale.emplace(l.org, it->second);
  }
  for (auto [org, v] : stale)
    self->send(self, msg::rescore{org, v, nullptr});
}

} // namespace hotlead::shard_detail
