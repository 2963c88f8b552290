// The hop from an io thread to actors and back: one CAF actor_companion per
// io thread, driven by that thread's io_context, so reply handlers run on the
// io thread that owns the connection (see ../shared/CAF-0.17.md, "Beast/Asio
// threads talking to actors"). Requests carry no CAF timeout (those are never
// cancelled and cost 20-38% throughput); instead the bridge keeps its own
// deadline per request and a coarse sweep answers expired ones with
// errc::timeout; a late reply is then ignored.
// Thread rules: construct, request() and shutdown() on the io thread only.
#pragma once

#include <caf/actor_companion.hpp>
#include <caf/all.hpp>
#include <caf/scoped_execution_unit.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "actors/errors.hpp"
#include "actors/lead_table.hpp"
#include "actors/messages.hpp"
#include "actors/reply_route.hpp"

namespace hotlead {

class model_registry;

class bridge_companion
  : public caf::extend<caf::actor_companion, bridge_companion>::with<caf::mixin::requester> {
public:
  using super = caf::extend<caf::actor_companion, bridge_companion>::with<caf::mixin::requester>;
  explicit bridge_companion(caf::actor_config& cfg) : super(cfg) {}
};

class bridge {
public:
  using clock = std::chrono::steady_clock;

  bridge(caf::actor_system& sys, boost::asio::io_context& ioc, std::chrono::milliseconds deadline);
  ~bridge();

  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  /// Sends {xs...} to `dest`; `cb` gets the reply or an error, on this
  /// io thread, exactly once.
  template <class R, class... Ts>
  void request(const caf::actor& dest, std::function<void(caf::expected<R>)> cb, Ts&&... xs) {
    request_within<R>(deadline_, dest, std::move(cb), std::forward<Ts>(xs)...);
  }

  /// request() with a deadline of its own (an import batch may wait for
  /// the journal longer than a single write should).
  template <class R, class... Ts>
  void request_within(std::chrono::milliseconds deadline, const caf::actor& dest,
                      std::function<void(caf::expected<R>)> cb, Ts&&... xs) {
    auto token = next_token_++;
    auto shared = std::make_shared<std::function<void(caf::expected<R>)>>(std::move(cb));
    pending_.emplace(token, entry{clock::now() + deadline,
                                  [shared] {
                                    (*shared)(make_error(errc::timeout,
                                                         "a shard did not answer in time; "
                                                         "retry (server.request_timeout)"));
                                  },
                                  {}});
    arm_sweep();
    self_->request(dest, caf::infinite, std::forward<Ts>(xs)...)
      .then(
        [this, token, shared](R& r) {
          if (pending_.erase(token))
            (*shared)(std::move(r));
        },
        [this, token, shared](caf::error& e) {
          if (pending_.erase(token))
            (*shared)(std::move(e));
        });
  }

  /// Sends an event write to its shard with a reply_route to this bridge:
  /// the answer comes straight from the journal thread once the write is
  /// durable, not through the companion; `cb` runs on this io thread,
  /// exactly once (a problem on timeout). The message leaves at the end of
  /// this turn of the io loop: the event writes this io thread read in one
  /// turn reach their shard as one add_event_burst (one message, one journal
  /// write) instead of one message and one wake-up of the worker each.
  void request_event(const caf::actor& shard, std::function<void(direct_result&)> cb,
                     msg::add_event m);

  /// Turns a lead into an answer's text, under its shard's read lock.
  using render_fn = std::string (*)(const lead&, const model_registry&);

  /// Reads a lead straight from its shard's table (no actor hop) at the end
  /// of this turn of the io loop, with the other reads of the turn:
  /// lead_table::read_batch overlaps their cache misses. `render` runs
  /// under the table's read lock; `cb` gets the id and the text, or null
  /// when `id` is not a lead of `org`, after the lock is released, on this
  /// io thread. (The id is handed back so that a callback capturing only a
  /// shared_ptr fits std::function's small buffer: no allocation.)
  using read_callback = std::function<void(uint64_t id, std::string* text)>;
  void read_lead(const lead_table& table, uint64_t org, uint64_t id,
                 const model_registry& models, render_fn render, read_callback cb);

  /// Runs the callback of a direct request (io thread; the sink calls it).
  void complete(uint64_t token, direct_result& r);

  size_t pending() const {
    return pending_.size();
  }

  /// Runs `fn` on this io thread (callable from any thread; dropped once
  /// the io_context has stopped): how a journal callback answers a request.
  void post(std::function<void()> fn);

  /// Runs `work` on a thread of its own (it may block), then `then` back
  /// on this io thread. For rare, slow operations such as checkpoints;
  /// shutdown() waits for such threads.
  void run_blocking(std::function<void()> work, std::function<void()> then);

  void shutdown();

private:
  struct entry {
    clock::time_point deadline;
    std::function<void()> on_timeout;             // a CAF request
    std::function<void(direct_result&)> on_reply; // a direct request
  };

  void arm_sweep();
  void sweep();

  boost::asio::io_context& ioc_;
  caf::scoped_execution_unit eu_;
  std::shared_ptr<reply_sink> sink_; // a bridge_sink (bridge.cpp)
  struct outbox;
  std::shared_ptr<outbox> outbox_; // request_event()s of this turn, per shard
  struct reads;
  std::shared_ptr<reads> reads_; // read_lead()s of this turn
  caf::strong_actor_ptr hdl_;
  bridge_companion* self_ = nullptr;
  std::chrono::milliseconds deadline_;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  uint64_t next_token_ = 1;
  std::map<uint64_t, entry> pending_; // by token
  std::vector<std::thread> blocking_;  // run_blocking() threads, joined at shutdown
};

} // namespace hotlead
