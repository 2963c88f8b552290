// The change feed (issue 4): one ordered stream of messages per org (lead
// created, updated, deleted, re-scored without a change), numbered by a per-org sequence, journaled in
// the same RocksDB batch as the change itself, and fed to WebSocket
// subscribers and webhooks alike. A writer (a shard) describes a message
// with a feed_item in its write ops; the journal numbers it when it commits
// the batch (so sequence order is commit order) and publishes the numbered
// feed_messages once the batch is durable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hotlead {

enum class feed_type : uint8_t {
  lead_created = 1,
  lead_updated = 2,
  lead_deleted = 3,
  job_progress = 4, // `lead` is the job's id; totals unused
  // The score moved with no change to the lead (decay, a new model version)
  // across the edge of a threshold some view watches (threshold_registry).
  lead_scored = 5,
};

std::string_view feed_type_name(feed_type t);

/// One numbered message, as published and as journaled.
struct feed_message {
  uint64_t org = 0;
  uint64_t seq = 0;
  uint64_t lead = 0;
  feed_type type = feed_type::lead_updated;
  int64_t total = 0;    // the lead's score total after the change (hundredths)
  int64_t previous = 0; // and before it (equal for a create)
  /// The whole JSON object: {"seq":N,"type":...,...}.
  std::shared_ptr<const std::string> json;
};

/// The size of a feed op's key (a type byte and four be64 numbers).
inline constexpr size_t feed_op_key_size = 1 + 8 * 4;

/// What a writer puts in a write_op of kind `feed` (persistence/journal.hpp):
/// the routing facts in the op's key, the JSON members after "seq" in its
/// value (e.g. "type":"lead.updated","lead_id":"...",...).
std::string feed_op_key(uint64_t org, uint64_t lead, feed_type type, int64_t total,
                        int64_t previous);

/// Reads a feed op's key back into `m` (seq and json not set); false when
/// the key is not one.
bool decode_feed_op_key(std::string_view key, feed_message& m);

/// `{"seq":N,` + members + `}`.
std::string feed_json(uint64_t seq, std::string_view members);

// -- threshold crossings (hot-lead alerts) --------------------------------------
// A threshold subscription (WebSocket topic "threshold", a webhook's
// threshold filter) keeps its own view of which leads are hot. A lead not
// hot in the view becomes hot (an "up" crossing) when a change leaves its
// total at or above `score`; a hot lead cools (a "down" crossing) only
// when a change leaves it below `score - hysteresis`, so a total hovering
// at the edge alerts once. A view starts with no hot lead: a lead already
// above the threshold alerts "up" at its next change. WebSocket and
// webhooks share this rule, so they never disagree.

struct threshold_rule {
  int64_t score = 0;      // hundredths of a point, like totals
  int64_t hysteresis = 0; // hundredths
  bool operator==(const threshold_rule&) const = default;
};

/// `left`: a hot lead was deleted; it leaves the view without an alert.
enum class crossing : uint8_t { none, up, down, left };

/// What a lead's change to `total` does in a view where it is `hot` or not.
inline crossing threshold_step(const threshold_rule& r, bool hot, int64_t total) {
  if (!hot && total >= r.score)
    return crossing::up;
  if (hot && total < r.score - r.hysteresis)
    return crossing::down;
  return crossing::none;
}

/// Applies lead message `m` to a view's set of hot leads (the WebSocket
/// topic's and the webhook's alike) and says what it did.
inline crossing threshold_apply(const threshold_rule& r, std::unordered_set<uint64_t>& hot,
                                const feed_message& m) {
  if (m.type == feed_type::lead_deleted)
    return hot.erase(m.lead) ? crossing::left : crossing::none;
  auto c = threshold_step(r, hot.count(m.lead) > 0, m.total);
  if (c == crossing::up)
    hot.insert(m.lead);
  else if (c == crossing::down)
    hot.erase(m.lead);
  return c;
}

/// Whether a lead at `total` is at or above r's lower edge, so that a view
/// of r may hold it hot (a down crossing needs it below).
inline bool above_lower_edge(const threshold_rule& r, int64_t total) {
  return total >= r.score - r.hysteresis;
}

/// Whether a lead whose last message carried total `published`, and whose
/// score is now `total` with no change to the lead, crosses `r` in a view:
/// down where it is hot (every view where it is hot saw a message at
/// `published`, so a down crossing there needs published >= the lower
/// edge), or up where it is not (published below the threshold). Such a
/// move is sent as a lead.scored message; any other is not sent at all.
inline bool score_move_crosses(const threshold_rule& r, int64_t published, int64_t total) {
  return (above_lower_edge(r, published) && !above_lower_edge(r, total)) ||
         (published < r.score && total >= r.score);
}

/// The alert for a crossing caused by lead message `m`: its JSON with type
/// "lead.threshold_crossed", the direction, the threshold and the change's
/// own type as "change", e.g. {"seq":9,"type":"lead.threshold_crossed",
/// "direction":"up","threshold":80,"hysteresis":5,"change":"lead.updated",
/// "lead_id":...,"score":{...}}.
std::string threshold_json(const feed_message& m, const threshold_rule& r, crossing c);

} // namespace hotlead
