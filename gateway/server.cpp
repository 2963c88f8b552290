#include "gateway/server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "gateway/listener.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace asio = boost::asio;

struct server::io_unit {
  asio::io_context ioc{1};
  std::unique_ptr<bridge> br;
  std::shared_ptr<listener> lst;
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
  uint16_t port = env_.cfg.port;
  for (size_t i = 0; i < std::max<size_t>(env_.cfg.io_threads, 1); ++i) {
    auto u = std::make_unique<io_unit>();
    u->br = std::make_unique<bridge>(sys_, u->ioc, env_.cfg.request_timeout);
    u->lst = std::make_shared<listener>(u->ioc, env_, *u->br);
    if (auto err = u->lst->open({addr, port}))
      return problem{errc::invalid_request, "cannot listen on " + env_.cfg.bind + ":" +
                                              std::to_string(port) + ": " + err.message() +
                                              " (is the port in use? pick another with --port)"};
    port = u->lst->port(); // port 0: the others join the one the kernel chose
    units_.push_back(std::move(u));
  }
  port_ = port;
  for (auto& u : units_) {
    u->lst->run();
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
  for (auto& u : units_)
    asio::post(u->ioc, [unit = u.get()] { unit->lst->stop(); });
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (env_.edge_metrics.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  if (auto n = env_.edge_metrics.in_flight.load(); n > 0)
    component_log("gateway")->warn("{} requests still in flight after the grace period", n);
  for (auto& u : units_) {
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
}

} // namespace hotlead
