// hotlead-bench's settings: the scenarios it can run and the options parsed
// from its command line (parsing and the usage text live in loadgen.cpp).
// A plain value: main fills it once, before any other thread starts, and
// every thread only reads it afterwards (through a const reference).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hotlead::bench {

enum class scenario { get_lead, post_event, mixed, url, score_stateless };

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t connections = 64;
  size_t threads = 1;
  double duration = 10;
  double warmup = 2;
  std::string key;
  scenario sc = scenario::url;
  std::string url = "/";
  std::string ids_file;
  double rate = 0; // 0 = closed loop
  bool json = false;
  size_t setup = 0;
  size_t setup_events = 0;
  size_t setup_connections = 16;
  double mixed_get = 0.8;
  bool setup_only = false;
  int server_pid = 0; // 0: do not measure the server's CPU
};

inline const char* scenario_name(scenario s) {
  switch (s) {
  case scenario::get_lead:
    return "get-lead";
  case scenario::post_event:
    return "post-event";
  case scenario::mixed:
    return "mixed";
  case scenario::url:
    return "url";
  case scenario::score_stateless:
    return "score-stateless";
  }
  return "?";
}

} // namespace hotlead::bench
