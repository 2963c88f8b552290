#include "gateway/bridge.hpp"

#include <boost/asio/post.hpp>

#include <mutex>
#include <thread>

namespace hotlead {

// Direct replies from other threads, handed to the io thread in batches: one
// post per burst, however many replies it carries.
class bridge_sink final : public reply_sink, public std::enable_shared_from_this<bridge_sink> {
public:
  bridge_sink(boost::asio::io_context& ioc, bridge* br) : ioc_(ioc), br_(br) {}

  void deliver(uint64_t token, direct_result r) override {
    std::lock_guard lock{mtx_};
    if (!br_)
      return;
    items_.emplace_back(token, std::move(r));
    if (!posted_) {
      posted_ = true;
      boost::asio::post(ioc_, [self = shared_from_this()] { self->drain(); });
    }
  }

  // Io thread: the bridge is going away; later replies are dropped.
  void close() {
    std::lock_guard lock{mtx_};
    br_ = nullptr;
    items_.clear();
  }

private:
  void drain() { // io thread (br_ changes only here, in close())
    std::vector<std::pair<uint64_t, direct_result>> items;
    {
      std::lock_guard lock{mtx_};
      items.swap(items_);
      posted_ = false;
    }
    for (auto& [token, r] : items)
      if (br_)
        br_->complete(token, r);
  }

  boost::asio::io_context& ioc_;
  std::mutex mtx_;
  bridge* br_;
  std::vector<std::pair<uint64_t, direct_result>> items_;
  bool posted_ = false;
};

bridge::bridge(caf::actor_system& sys, boost::asio::io_context& ioc,
               std::chrono::milliseconds deadline)
  : ioc_(ioc), eu_(&sys), sink_(std::make_shared<bridge_sink>(ioc, this)), deadline_(deadline),
    timer_(ioc) {
  auto hdl = sys.spawn<bridge_companion, caf::hidden>();
  hdl_ = caf::actor_cast<caf::strong_actor_ptr>(hdl);
  self_ = static_cast<bridge_companion*>(caf::actor_cast<caf::abstract_actor*>(hdl_));
  // Without a behavior a companion terminates once nothing is pending.
  self_->become([](caf::unit_t) {});
  // Called from any thread (CAF workers): hop onto this io_context.
  self_->on_enqueue([this](caf::mailbox_element_ptr ptr) {
    boost::asio::post(ioc_, [this, p = std::move(ptr)]() mutable {
      if (self_)
        self_->activate(&eu_, *p);
    });
  });
}

bridge::~bridge() {
  shutdown();
}

void bridge::shutdown() {
  for (auto& t : blocking_)
    if (t.joinable())
      t.join();
  blocking_.clear();
  if (!self_)
    return;
  static_cast<bridge_sink&>(*sink_).close();
  timer_.cancel();
  self_->on_enqueue(nullptr);
  self_->cleanup(caf::make_error(caf::exit_reason::user_shutdown), &eu_);
  self_ = nullptr;
  hdl_ = nullptr;
}

void bridge::run_blocking(std::function<void()> work, std::function<void()> then) {
  // Joined at shutdown (snapshots are rare: a handful of threads at most).
  blocking_.emplace_back([this, work = std::move(work), then = std::move(then)]() mutable {
    work();
    boost::asio::post(ioc_, std::move(then)); // dropped if the io_context has stopped
  });
}

void bridge::arm_sweep() {
  if (timer_armed_)
    return;
  timer_armed_ = true;
  // Coarse: deadlines are enforced within ~deadline/4 (at least 10 ms).
  auto period = std::max(deadline_ / 4, std::chrono::milliseconds{10});
  timer_.expires_after(period);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    timer_armed_ = false;
    if (ec || !self_)
      return;
    sweep();
    if (!pending_.empty())
      arm_sweep();
  });
}

void bridge::sweep() {
  auto now = clock::now();
  while (!pending_.empty() && pending_.begin()->second.deadline <= now) {
    auto e = std::move(pending_.begin()->second);
    pending_.erase(pending_.begin());
    if (e.on_reply) {
      direct_result r = problem{errc::timeout,
                                "a shard did not answer in time; retry (server.request_timeout)"};
      e.on_reply(r);
    } else {
      e.on_timeout();
    }
  }
}

void bridge::complete(uint64_t token, direct_result& r) {
  auto i = pending_.find(token);
  if (i == pending_.end())
    return; // answered already (timed out)
  auto cb = std::move(i->second.on_reply);
  pending_.erase(i);
  cb(r);
}

} // namespace hotlead
