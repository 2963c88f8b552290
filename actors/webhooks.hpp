// The webhooks of every org and their outbox (issue 4). The journal shows
// each feed message to the book while it builds the message's batch
// (feed_setup::tap); the book adds a delivery record for every active
// webhook the message matches ('Y' keys) to that same batch, so a delivery
// is durable exactly when the change that caused it is: a crash can lose
// neither. Threshold webhooks keep their view of hot leads here ('T' keys,
// written in the same batch), so each crossing is delivered once. Once the
// batch is durable the new deliveries go to the sender
// (gateway/webhook_sender), which POSTs them off the request path.
// Threads: the journal thread taps and settles; io threads read and change
// webhooks (after their write is durable); the sender reads them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "persistence/journal.hpp"
#include "protocol/webhook.hpp"

namespace hotlead {

class store;
class threshold_registry;

/// How webhook_sender (gateway/) delivers; cluster.conf [webhooks].
struct sender_options {
  uint32_t max_attempts = 10;
  std::chrono::milliseconds retry_base{1000};  // the first retry's delay (before jitter)
  std::chrono::milliseconds retry_max{600000}; // no delay grows past this
  std::chrono::milliseconds timeout{10000};    // one attempt, connect to last byte
  size_t concurrency = 4;                      // attempts in flight per webhook
  size_t keep_delivered = 1000;                // delivered records kept per webhook
};

class webhook_book {
public:
  /// A delivery to try (at `next_at`).
  struct due {
    uint64_t hook = 0;
    uint64_t id = 0;
    millis next_at = 0;
  };

  /// Where threshold webhooks register their rules (actors/feed_hub.hpp);
  /// set before load().
  void register_rules(threshold_registry* r) {
    rules_ = r;
  }
  /// Webhooks and hot views from RocksDB; before the journal runs.
  std::optional<problem> load(store& db);

  std::vector<webhook> list(uint64_t org) const;
  size_t count(uint64_t org) const;
  std::optional<webhook> find(uint64_t org, uint64_t id) const;
  /// A webhook of any org (the sender's lookup).
  std::optional<webhook> find_any(uint64_t id) const;

  /// Adds or replaces a webhook whose record is durable; `reset_view`
  /// forgets its hot leads (its threshold changed; their keys were deleted).
  void put(const webhook& w, bool reset_view);
  void remove(uint64_t org, uint64_t id);

  /// The journal's tap: the deliveries (and hot-view changes) message `m`
  /// causes, as writes into its batch. Journal thread.
  void tap(const feed_message& m, std::vector<write_op>& ops);
  /// The journal's settle: durable deliveries go to the taker. Journal thread.
  void settled(bool durable);
  /// Where durable new deliveries go (the sender); set before writes start.
  void on_deliveries(std::function<void(std::vector<due>&&)> taker);

private:
  std::optional<webhook> find_locked(uint64_t org, uint64_t id) const;
  void note_rule(const webhook& w, bool add); // under mtx_
  void add_delivery(const webhook& w, const feed_message& m, std::string_view type,
                    std::string_view data, std::vector<write_op>& ops);

  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, std::vector<webhook>> by_org_;
  std::unordered_map<uint64_t, uint64_t> org_of_;                   // hook -> org
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> hot_; // hook -> hot leads
  uint64_t last_id_ = 0;    // under mtx_
  std::vector<due> fresh_;  // tapped into the batch being built (journal thread)
  std::function<void(std::vector<due>&&)> taker_;
  threshold_registry* rules_ = nullptr;
};

} // namespace hotlead
