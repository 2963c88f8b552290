// A shard's internals, shared by the files that implement it: the actor
// and its writes (shard_actor.cpp), creates, updates and bulk import batches
// (shard_writes.cpp), and scoring, re-score jobs and previews (shard_scoring.cpp). Not for use
// outside those files.
#pragma once

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/shard_actor.hpp"
#include "persistence/journal.hpp"
#include "protocol/feed.hpp"
#include "protocol/score.hpp"

namespace hotlead {

struct model_entry;
class model_registry;

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
  const model_entry* to = nullptr; // that version (registry entries live for ever)
  std::shared_ptr<job> run;
  std::vector<uint64_t> ids; // the leads to re-score, and how far it got
  size_t pos = 0;
  std::unordered_map<uint32_t, std::vector<int>> maps; // from version -> carry_map
  struct replay {
    std::vector<bool> only; // the rules to rebuild
    uint64_t until = 0;     // events before this seq (later ones were scored live)
  };
  std::unordered_map<uint64_t, replay> replays;
  std::vector<threshold_rule> watched; // the org's threshold rules, read per chunk
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

// Leads re-scored as of now per step of a decay tick (shard_moves.cpp).
constexpr size_t decay_chunk = 256;

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
  // Decay crossings (shard_moves.cpp): leads whose last message may still
  // cool in a threshold view; the tick in progress and how far it got.
  std::unordered_set<uint64_t> warm;
  std::vector<uint64_t> cooling;
  size_t cooling_pos = 0;
  bool warm_seeded = false;
  static inline const char* name = "shard";
};

namespace shard_detail {

using self_ptr = caf::stateful_actor<shard_state>*;

// -- shard_actor.cpp --------------------------------------------------------------

/// The lead of this org, or nullptr: another org's lead looks exactly missing.
lead* find(self_ptr self, uint64_t org, uint64_t id);

/// Hands `ops` to the journal; `pw` is settled once they are durable.
void journal_append(self_ptr self, std::vector<write_op> ops, pending_write pw);

/// The lead record, written now: its tail is no longer needed, nor its
/// marker (`marked`: stored by an earlier write).
void put_record(lead& l, bool marked, std::vector<write_op>& ops);

/// The lead's score state alone (an 'R' record: a re-score), or the whole
/// record when the stored one is behind the lead's events.
void put_score_state(lead& l, std::vector<write_op>& ops);

/// "no lead with id ..." (not_found).
caf::error no_lead(uint64_t id);

/// Adds `delta` to the shard's lead count (metrics).
void count_leads(self_ptr self, int64_t delta);

/// Puts leads whose write failed back to what RocksDB holds.
void roll_back(self_ptr self, const std::vector<uint64_t>& ids);

/// The lead's record, as a journal write.
write_op put_lead(const lead& l);

/// Hands `ops` to the journal; the promise is kept with `reply` once durable
/// (a failure rolls `leads` back and answers the error).
caf::response_promise journal_write(self_ptr self, std::vector<write_op> ops,
                                    caf::message reply, std::vector<uint64_t> leads);

// -- shard_writes.cpp ---------------------------------------------------------------

/// A lead created from a create body, its journal writes into `ops`, its
/// answer (the lead object) only when `answer`. Under the write lock.
caf::expected<msg::lead_written> create_one(self_ptr self, uint64_t org, uint64_t id,
                                            const lead_patch& p, millis now, bool answer,
                                            std::vector<write_op>& ops);

/// A lead patched; its journal writes into `ops` (none when nothing
/// changed). Under the write lock.
caf::expected<msg::lead_written> update_one(self_ptr self, uint64_t org, uint64_t id,
                                            const lead_patch& p, millis now, bool answer,
                                            std::vector<write_op>& ops);


/// One bulk import batch's creates and updates (msg::write_leads).
caf::result<msg::write_leads_outcome> write_leads(self_ptr self, msg::write_leads& m);

// -- shard_scoring.cpp --------------------------------------------------------------

/// The model the lead's engagement state is in terms of; a lead with none
/// yet (new, or from before scoring) starts on the org's active version.
const model_entry& model_of(self_ptr self, lead& l);

/// `before` is the score ahead of a change: a `decay` history entry when it
/// drifted from the last one.
void note_drift(lead& l, const model_entry& e, const score& before, millis now,
                std::vector<write_op>& ops);

/// The score after a change; a history entry when the total moved (or the
/// lead is new).
score note_change(lead& l, const model_entry& e, millis now, score_cause cause,
                  std::string_view detail, std::vector<write_op>& ops);

/// The score object of `l` (write_score, with its predictive part): once
/// per change, for the answer and the change feed alike.
std::string score_json(const model_registry& reg, const lead& l, const score& s,
                       uint32_t version, millis now);

/// A change-feed message of `l` into `ops` (protocol/feed.hpp): its type,
/// the score object after the change (`score`, from score_json, with its
/// `total`; empty for a delete), what caused it, and the total before it.
void feed_change(const lead& l, feed_type type, std::string_view score, int64_t total,
                 int64_t previous, millis now, score_cause cause, std::string_view detail,
                 std::vector<write_op>& ops);

/// The lead object with `score` (a score_json) as its score.
std::string lead_answer(const lead& l, std::string_view score);

/// The lead object with `s` as its score.
std::string lead_answer(const model_registry& reg, const lead& l, const score& s,
                        uint32_t version, millis now);

/// The names of the fields a patch sets (the detail of a field_change entry).
std::string patch_fields(const lead_patch& p);

/// Queues a re-score (msg::rescore); the first queued one runs.
void start_rescore(self_ptr self, msg::rescore& m);

/// At start: a re-score for each org with leads off its active version.
void rescore_stale(self_ptr self);

/// The next chunk of the running re-score (msg::rescore_atom).
void rescore_step(self_ptr self);

/// Replayed stored events for the running re-score.
void apply_replay(self_ptr self, msg::replay_events& m);

// -- shard_moves.cpp ----------------------------------------------------------------

/// After a message of `l` was put in a write: tracks it for decay when it
/// may still cool in a threshold view of its org.
void note_published(self_ptr self, const lead& l);

/// The threshold rules the org's views watch now (none without a registry).
std::vector<threshold_rule> watched_rules(self_ptr self, uint64_t org);

/// After a score move with no change to `l` from `published` (the total its
/// last message carried) to `s`: a lead.scored message into `ops` when it
/// crosses one of `rules` (the org's watched_rules), and whether the lead
/// stays warm. Under the write lock.
void publish_score_move(self_ptr self, lead& l, const model_entry& e, const score& s,
                        int64_t published, millis now, score_cause cause,
                        std::string_view detail, const std::vector<threshold_rule>& rules,
                        std::vector<write_op>& ops);

/// Each sweep tick: starts re-scoring the warm leads as of now.
void decay_tick(self_ptr self);

/// The next chunk of the tick (msg::decay_atom, or after a chunk's commit).
void decay_step(self_ptr self);

/// The org's leads scored now and with a proposed model.
msg::preview_part preview(self_ptr self, const msg::preview_scores& m);

} // namespace shard_detail

} // namespace hotlead
