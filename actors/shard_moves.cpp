// Score moves with no change to the lead (issue 4): engagement decays, and
// a new model version re-scores. A threshold view (a WebSocket "threshold"
// topic, a threshold webhook) only learns of a lead's score through the
// change feed, so such a move is sent as a lead.scored message when it
// crosses a rule some view of the org watches (score_move_crosses); other
// moves are not sent (a re-score of a million leads would otherwise be a
// million messages).
//
// Decay has no write to ride on: each sweep tick (sweep_interval) the shard
// re-scores, as of now, the leads whose last message may still cool in a
// view (`warm`: at or above some rule's lower edge when it was sent), in
// chunks of decay_chunk under the write lock, and journals a decay history
// entry, the score state and the message for each one that crossed.
#include <algorithm>
#include <unordered_map>

#include "actors/feed_hub.hpp"
#include "actors/model_registry.hpp"
#include "actors/shard_state.hpp"
#include "protocol/time.hpp"

namespace hotlead::shard_detail {

namespace {

// The rules of each org met in one pass (one registry lookup per org).
class org_rules {
public:
  explicit org_rules(const threshold_registry& reg) : reg_(reg) {}
  const std::vector<threshold_rule>& of(uint64_t org) {
    auto [i, fresh] = cache_.try_emplace(org);
    if (fresh)
      i->second = reg_.rules(org);
    return i->second;
  }

private:
  const threshold_registry& reg_;
  std::unordered_map<uint64_t, std::vector<threshold_rule>> cache_;
};

bool crosses_any(const std::vector<threshold_rule>& rules, int64_t published, int64_t total) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](auto& r) { return score_move_crosses(r, published, total); });
}

// Every lead that may cool in a view of its org's rules now: once, when
// rules first exist (after a restart, threshold webhooks' views still hold
// the hot leads of before).
void seed_warm(self_ptr self, const threshold_registry& reg) {
  auto& st = self->state;
  st.warm_seeded = true;
  org_rules rules{reg};
  for (auto& [id, l] : st.table->leads())
    if (!l.engagement.empty() && may_cool(rules.of(l.org), l.scored_total))
      st.warm.insert(id);
}

} // namespace

void note_published(self_ptr self, const lead& l) {
  auto* reg = self->state.cfg->thresholds;
  if (!reg || !reg->any() || l.engagement.empty()) // no engagement: nothing decays
    return;
  if (reg->may_cool(l.org, l.scored_total))
    self->state.warm.insert(l.id);
}

std::vector<threshold_rule> watched_rules(self_ptr self, uint64_t org) {
  auto* reg = self->state.cfg->thresholds;
  return reg && reg->any() ? reg->rules(org) : std::vector<threshold_rule>{};
}

void publish_score_move(self_ptr self, lead& l, const model_entry& e, const score& s,
                        int64_t published, millis now, score_cause cause,
                        std::string_view detail, const std::vector<threshold_rule>& rules,
                        std::vector<write_op>& ops) {
  if (!crosses_any(rules, published, s.total))
    return;
  auto json = score_json(*self->state.cfg->models, l, s, e.version, now);
  feed_change(l, feed_type::lead_scored, json, s.total, published, now, cause, detail, ops);
  if (!l.engagement.empty() && may_cool(rules, s.total))
    self->state.warm.insert(l.id);
  else
    self->state.warm.erase(l.id);
}

void decay_tick(self_ptr self) {
  auto& st = self->state;
  auto* reg = st.cfg->thresholds;
  if (!reg || !reg->any() || !st.cooling.empty())
    return; // no view anywhere, or the last tick is still going (or committing)
  if (!st.warm_seeded)
    seed_warm(self, *reg);
  st.cooling.assign(st.warm.begin(), st.warm.end());
  st.cooling_pos = 0;
  decay_step(self);
}

void decay_step(self_ptr self) {
  auto& st = self->state;
  if (st.cooling_pos >= st.cooling.size()) {
    st.cooling.clear();
    st.cooling_pos = 0;
    return;
  }
  org_rules rules{*st.cfg->thresholds};
  std::vector<write_op> ops;
  std::vector<uint64_t> moved;
  auto now = now_ms();
  {
    auto w = st.table->write_lock();
    auto& leads = st.table->leads();
    auto end = std::min(st.cooling.size(), st.cooling_pos + decay_chunk);
    for (; st.cooling_pos < end; ++st.cooling_pos) {
      auto id = st.cooling[st.cooling_pos];
      auto i = leads.find(id);
      if (i == leads.end()) {
        st.warm.erase(id);
        continue;
      }
      auto& l = i->second;
      auto& rs = rules.of(l.org);
      auto published = l.scored_total;
      if (l.engagement.empty() || !may_cool(rs, published)) {
        st.warm.erase(id); // nothing to decay, its views' rules went, or below every edge
        continue;
      }
      auto& e = model_of(self, l);
      auto s = score_of(e.model, l, l.engagement, now);
      if (!crosses_any(rs, published, s.total))
        continue;
      note_drift(l, e, s, now, ops); // a decay history entry: scored_total moves to s.total
      l.scored_total = s.total;      // (also for a lead with no history yet)
      put_score_state(l, ops);
      publish_score_move(self, l, e, s, published, now, score_cause::decay, "", rs, ops);
      moved.push_back(id);
    }
  }
  if (ops.empty()) { // the next chunk, after the messages waiting meanwhile
    self->send(self, msg::decay_atom::value);
    return;
  }
  pending_write pw;
  pw.internal = [self, moved = std::move(moved)](const std::optional<problem>& err) {
    if (err) { // memory back to what RocksDB holds; the next tick tries again
      roll_back(self, moved);
      for (auto id : moved)
        self->state.warm.insert(id);
    }
    decay_step(self);
  };
  journal_append(self, std::move(ops), std::move(pw));
}

} // namespace hotlead::shard_detail
