// Journal writes whose continuation runs inside the actor that made them
// (the catalog, org actors): the journal's callback, on its own thread,
// only sends (committed_atom, token, error) back; the actor's handler for
// that message calls done(), which runs the continuation in the actor.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "persistence/journal.hpp"

namespace hotlead {

class commit_waiter {
public:
  using then_fn = std::function<void(const std::optional<problem>&)>;

  /// Hands `ops` to the journal; `then` runs in `self` once they are
  /// durable or refused.
  template <class Self>
  void write(Self* self, journal& jr, std::vector<write_op> ops, then_fn then) {
    auto token = next_++;
    pending_.emplace(token, std::move(then));
    caf::actor me = caf::actor_cast<caf::actor>(self);
    jr.append(std::move(ops), [me, token](const std::optional<problem>& err) {
      caf::anon_send(me, msg::committed_atom::value, token, err);
    });
  }

  /// The actor's (committed_atom, token, error) handler.
  void done(uint64_t token, const std::optional<problem>& err) {
    auto i = pending_.find(token);
    if (i == pending_.end())
      return;
    auto then = std::move(i->second);
    pending_.erase(i);
    then(err);
  }

private:
  std::unordered_map<uint64_t, then_fn> pending_;
  uint64_t next_ = 1;
};

} // namespace hotlead
