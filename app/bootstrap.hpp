// First start of an empty data directory: the root key (given or random,
// printed once) and, unless --no-demo, a demo org with an admin key.
#pragma once

#include <caf/fwd.hpp>

#include <optional>

#include "protocol/errors.hpp"

namespace hotlead {

struct config;
class store;
class journal;
class node;
class key_table;

std::optional<problem> bootstrap(const config& c, store& db, journal& jr, caf::actor_system& sys,
                                 node& nd, key_table& keys, uint16_t port);

void setup_logging(const config& c);

} // namespace hotlead
