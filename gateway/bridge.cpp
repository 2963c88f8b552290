#include "gateway/bridge.hpp"

#include <boost/asio/post.hpp>

#include <thread>

namespace hotlead {

bridge::bridge(caf::actor_system& sys, boost::asio::io_context& ioc,
               std::chrono::milliseconds deadline)
  : ioc_(ioc), eu_(&sys), deadline_(deadline), timer_(ioc) {
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
    auto fn = std::move(pending_.begin()->second.on_timeout);
    pending_.erase(pending_.begin());
    fn();
  }
}

} // namespace hotlead
