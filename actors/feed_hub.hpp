// The pub/sub hub of the change feed (protocol/feed.hpp): each org's
// journaled window of messages in memory, and the listeners (one per io
// thread) that numbered messages are handed to as the journal publishes
// them. A subscriber that resumes reads what it missed from the window.
// Thread-safe: the journal thread publishes, io threads read and listen.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"

namespace hotlead {

class store;

/// The threshold rules each org's views watch now (WebSocket "threshold"
/// topics, threshold webhooks), so that shards know which score moves
/// without a change to the lead (decay, a new model version) a view must
/// see: those that cross one of them (score_move_crosses) are sent as
/// lead.scored messages, the rest are not sent. Thread-safe.
class threshold_registry {
public:
  void add(uint64_t org, const threshold_rule& r);
  void remove(uint64_t org, const threshold_rule& r);
  /// Any rule of any org: false is the common case, checked without a lock.
  bool any() const {
    return count_.load(std::memory_order_relaxed) > 0;
  }
  /// The org's distinct rules (empty: none).
  std::vector<threshold_rule> rules(uint64_t org) const;
  /// may_cool() over the org's rules, without copying them (each write).
  bool may_cool(uint64_t org, int64_t published) const;

private:
  struct counted {
    threshold_rule rule;
    size_t views = 0;
  };
  mutable std::shared_mutex mtx_; // shared: shards read on each write, views change rarely
  std::unordered_map<uint64_t, std::vector<counted>> by_org_;
  std::atomic<size_t> count_{0};
};

/// Whether a lead whose last message carried `published` may still cool
/// in a view of one of `rules` (it is at or above a lower edge): the
/// leads a decay sweep looks at.
inline bool may_cool(const std::vector<threshold_rule>& rules, int64_t published) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](auto& r) { return above_lower_edge(r, published); });
}

inline bool threshold_registry::may_cool(uint64_t org, int64_t published) const {
  std::shared_lock lock{mtx_};
  auto o = by_org_.find(org);
  if (o == by_org_.end())
    return false;
  return std::any_of(o->second.begin(), o->second.end(),
                     [&](auto& c) { return above_lower_edge(c.rule, published); });
}

class feed_hub {
public:
  using batch = std::shared_ptr<const std::vector<feed_message>>;
  using listener = std::function<void(const batch&)>;

  /// `window`: messages kept per org (stream.replay_window).
  explicit feed_hub(size_t window) : window_(window) {}

  /// Fills the windows from RocksDB; before the journal publishes.
  std::optional<problem> load(store& db);

  /// Each org's last seq (for the journal's numbering).
  std::unordered_map<uint64_t, uint64_t> heads() const;

  /// Takes one committed batch's messages (in seq order per org).
  void publish(std::vector<feed_message>&& msgs);

  /// Registers a listener, called (on the publishing thread, under the
  /// hub's lock) with every batch from now on; it must only hand the batch
  /// on (e.g. post it).
  size_t listen(listener l);
  void unlisten(size_t id);

  struct replay {
    uint64_t head = 0;   // the org's last seq now
    uint64_t oldest = 0; // the first seq still in the window (head + 1 when empty)
    std::vector<feed_message> messages; // seq > after, oldest first
  };

  /// The org's messages after `after` that are still in the window.
  replay since(uint64_t org, uint64_t after) const;

  /// The org's last seq (0 when it has none).
  uint64_t head(uint64_t org) const;

  threshold_registry& thresholds() {
    return thresholds_;
  }

private:
  struct org_feed {
    uint64_t head = 0;
    std::deque<feed_message> window;
  };
  void add(feed_message&& m);

  size_t window_;
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, org_feed> orgs_;
  std::vector<std::pair<size_t, listener>> listeners_;
  size_t next_listener_ = 1;
  threshold_registry thresholds_;
};

} // namespace hotlead
