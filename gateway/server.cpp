#include "gateway/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "gateway/listener.hpp"
#include "gateway/ws_session.hpp"
#include "actors/feed_hub.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace asio = boost::asio;

struct server::io_unit {
  // Before the io_context: destroying it destroys the handlers that still
  // hold WebSocket sessions, which leave this registry as they go.
  stream_registry streams;
  asio::io_context ioc{1};
  std::unique_ptr<bridge> br;
  size_t feed_listener = 0;
  std::thread thread;
};

server::server(caf::actor_system& sys, edge_env& env) : sys_(sys), env_(env) {
}

server::~server() {
  drain(std::chrono::milliseconds{0});
}

std::optional<problem> server::start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(env_.cfg.bind, ec);
  if (ec)
    return problem{errc::invalid_request, "server.bind '" + env_.cfg.bind +
                                            "' is not an IP address"};
  std::vector<listener::target> targets;
  for (size_t i = 0; i < std::max<size_t>(env_.cfg.io_threads, 1); ++i) {
    auto u = std::make_unique<io_unit>();
    u->br = std::make_unique<bridge>(sys_, u->ioc, env_.cfg.request_timeout);
    targets.push_back({&u->ioc, u->br.get(), &u->streams});
    // Each published batch is posted once to this io thread's sessions; a
    // thread with none is not woken (a session that starts later reads
    // what it needs from the hub).
    if (env_.feed)
      u->feed_listener = env_.feed->listen([unit = u.get()](const feed_hub::batch& b) {
        if (unit->streams.live() > 0)
          asio::post(unit->ioc, [unit, b] { unit->streams.dispatch(*b); });
      });
    units_.push_back(std::move(u));
  }
  // The acceptor lives on the first io thread.
  listener_ = std::make_shared<listener>(units_.front()->ioc, env_, std::move(targets));
  if (auto err = listener_->open({addr, env_.cfg.port})) {
    units_.clear();
    return problem{errc::invalid_request,
                   "cannot listen on " + env_.cfg.bind + ":" + std::to_string(env_.cfg.port) +
                     ": " + err.message() + " (is the port in use? pick another with --port)"};
  }
  port_ = listener_->port();
  listener_->run();
  for (auto& u : units_) {
    u->thread = std::thread{[unit = u.get()] {
      auto guard = asio::make_work_guard(unit->ioc);
      unit->ioc.run();
    }};
  }
  return std::nullopt;
}

void server::drain(std::chrono::milliseconds grace) {
  if (units_.empty())
    return;
  env_.draining = true;
  asio::post(units_.front()->ioc, [lst = listener_] { lst->stop(); });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (env_.edge_metrics.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  if (auto n = env_.edge_metrics.in_flight.load(); n > 0)
    component_log("gateway")->warn("{} requests still in flight after the grace period", n);
  for (auto& u : units_) {
    if (env_.feed && u->feed_listener)
      env_.feed->unlisten(u->feed_listener);
    std::promise<void> done;
    asio::post(u->ioc, [&] {
      u->br->shutdown();
      done.set_value();
    });
    done.get_future().wait_for(std::chrono::seconds{2});
    u->ioc.stop();
    if (u->thread.joinable())
      u->thread.join();
  }
  units_.clear();
  listener_.reset();
}

} // namespace hotlead
