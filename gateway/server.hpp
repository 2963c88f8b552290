// The HTTP edge as a whole: N io threads, each with its own io_context and
// actor bridge (nothing is shared between io threads but the edge_env), and
// one listener on the first thread dealing connections to all of them. start() binds and runs; drain() stops accepting, waits for the
// requests in flight, then stops the threads. Owned by `hotlead serve`.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/errors.hpp"

namespace hotlead {

struct edge_env;
class listener;

class server {
public:
  server(caf::actor_system& sys, edge_env& env);
  ~server();

  /// Binds env.cfg.bind:env.cfg.port (0 = any free port) and starts the threads.
  std::optional<problem> start();
  uint16_t port() const {
    return port_;
  }

  /// Graceful stop: no new connections, in-flight requests finish (up to
  /// `grace`), then the io threads end.
  void drain(std::chrono::milliseconds grace);

private:
  struct io_unit;
  caf::actor_system& sys_;
  edge_env& env_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<io_unit>> units_;
  std::shared_ptr<listener> listener_;
};

} // namespace hotlead
