// A reply that skips the actor on its way back. A write's answer normally
// travels journal thread → shard actor (keeps its response promise) → the
// io thread's actor companion → io thread: two more hand-offs after the
// fsync. A request that carries a reply_route is answered straight from the
// journal thread into the io thread's sink instead, once the write is
// durable (or at once when it is refused). The shard still handles failed
// commits first (it rolls memory back, then answers through the route).
// No CAF, no Asio here: the gateway implements the sink (gateway/bridge.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "protocol/errors.hpp"

namespace hotlead {

using direct_result = std::variant<std::string, problem>;

class reply_sink {
public:
  virtual ~reply_sink() = default;
  /// Any thread; at most once per token. Ignored once the sink is closed.
  virtual void deliver(uint64_t token, direct_result result) = 0;
};

struct reply_route {
  std::shared_ptr<reply_sink> sink; // null: answer through CAF as usual
  uint64_t token = 0;

  explicit operator bool() const {
    return sink != nullptr;
  }
  void deliver(direct_result r) const {
    sink->deliver(token, std::move(r));
  }
};

} // namespace hotlead
