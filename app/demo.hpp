// Demo data through a server's own HTTP API: synthetic leads
// (protocol/demo_data.hpp) go in with POST /v1/leads:import (NDJSON), their
// ids come back from GET /v1/leads:export, and their activity goes in with
// POST /v1/events:batch, so every lead is scored and explained exactly as a
// real one would be. Used by `hotlead demo` against a running server and by
// `hotlead serve` on its first start (a thread of its own, after the server
// is ready). Blocking; one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hotlead {

struct demo_fill {
  std::string host = "127.0.0.1", port = "8080";
  std::string key; // an API key of the org to fill (admin or member)
  uint64_t leads = 10000;
  uint64_t seed = 42;
  bool progress = false; // a line per step on stderr
};

/// Fills the org; an error message when a request failed.
std::optional<std::string> fill_demo(const demo_fill& d, uint64_t* events_out = nullptr);

} // namespace hotlead
