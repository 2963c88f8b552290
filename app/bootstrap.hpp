// First start of an empty data directory: the root key (given or random,
// printed once) and, unless --no-demo, a demo org with an admin key
// (filled with --demo-leads synthetic leads once the server is ready).
#pragma once

#include <caf/fwd.hpp>

#include <optional>
#include <string>

#include "protocol/errors.hpp"

namespace hotlead {

struct config;
class store;
class journal;
class node;
class key_table;

/// `demo_key` gets the demo org's admin key when one was made (to fill it
/// with demo leads once the server is ready: app/demo.hpp).
std::optional<problem> bootstrap(const config& c, store& db, journal& jr, caf::actor_system& sys,
                                 node& nd, key_table& keys, uint16_t port, std::string& demo_key);

void setup_logging(const config& c);

} // namespace hotlead
