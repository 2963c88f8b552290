// Sends webhook deliveries (actors/webhooks.hpp makes them durable), off the
// request path: one thread of its own runs an io_context with a Beast HTTP
// client. Each attempt opens a connection, POSTs the body signed with the
// webhook's secret (headers below), and waits at most `timeout`. A 2xx is
// delivered; a 4xx other than 408 and 429 is parked at once (retrying would
// get the same answer); anything else (5xx, 408, 429, no answer) is retried
// with exponential backoff and full jitter, a 429 after its Retry-After;
// after `max_attempts` the delivery is parked. Parked deliveries stay for
// inspection and POST .../deliveries:replay. Each outcome is journaled (the
// delivery's record), so a restart resumes what was pending: delivery is
// at least once, the delivery id is the receiver's idempotency key.
// At most `concurrency` attempts per webhook are in flight.
//   Hotlead-Delivery-Id: <id>         Hotlead-Webhook-Id: <webhook id>
//   Hotlead-Event: <type>             Hotlead-Attempt: <n>
//   Hotlead-Timestamp: <unix seconds>
//   Hotlead-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/webhooks.hpp"

namespace hotlead {

class store;
class journal;

class webhook_sender {
public:
  webhook_sender(store& db, journal& jr, webhook_book& book, sender_options o);
  ~webhook_sender();

  /// Picks up the pending deliveries RocksDB holds and starts the thread.
  std::optional<problem> start();
  /// Stops the thread; attempts in flight are abandoned (retried at the
  /// next start: their outcome was not journaled).
  void stop();

  /// Durable new deliveries (any thread).
  void add(std::vector<webhook_book::due>&& due);

  /// Makes a webhook's parked deliveries pending again (all of them, or
  /// those of `ids`) and queues them once that is durable; `done` gets the
  /// ids replayed or the error (on the journal thread, or at once).
  using replay_done = std::function<void(std::optional<problem>, std::vector<uint64_t>)>;
  void replay(uint64_t hook, const std::vector<uint64_t>& ids, replay_done done);

private:
  struct hook_queue {
    std::deque<uint64_t> ready;     // due now, in id order
    size_t in_flight = 0;
    std::deque<uint64_t> delivered; // kept records, oldest first
  };
  struct attempt;
  void schedule(uint64_t hook, uint64_t id, millis at);
  void pump(uint64_t hook);
  void begin(uint64_t hook, uint64_t id);
  void finish(uint64_t hook, delivery d, int status, std::string error, uint32_t ms,
              std::optional<std::chrono::milliseconds> retry_after);
  std::chrono::milliseconds backoff(uint32_t attempts);

  store& db_;
  journal& jr_;
  webhook_book& book_;
  sender_options opt_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unordered_map<uint64_t, hook_queue> hooks_; // sender thread only
  std::thread thread_;
};

} // namespace hotlead
