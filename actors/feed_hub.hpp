// The pub/sub hub of the change feed (protocol/feed.hpp): each org's
// journaled window of messages in memory, and the listeners (one per io
// thread) that numbered messages are handed to as the journal publishes
// them. A subscriber that resumes reads what it missed from the window.
// Thread-safe: the journal thread publishes, io threads read and listen.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"

namespace hotlead {

class store;

class feed_hub {
public:
  using batch = std::shared_ptr<const std::vector<feed_message>>;
  using listener = std::function<void(const batch&)>;

  /// `window`: messages kept per org (stream.replay_window).
  explicit feed_hub(size_t window) : window_(window) {}

  size_t window() const {
    return window_;
  }

  /// Fills the windows from RocksDB; before the journal publishes.
  std::optional<problem> load(store& db);

  /// Each org's last seq (for the journal's numbering).
  std::unordered_map<uint64_t, uint64_t> heads() const;

  /// Takes one committed batch's messages (in seq order per org).
  void publish(std::vector<feed_message>&& msgs);

  /// Registers a listener, called (on the publishing thread) with every
  /// batch from now on; it must only hand the batch on (e.g. post it).
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
};

} // namespace hotlead
