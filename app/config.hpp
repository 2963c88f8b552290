// hotlead's configuration: built-in defaults, overridden by the config file
// (cluster.conf, INI), overridden by command-line flags. Every key is known
// here; an unknown section or key, or a bad value, is an error that names
// the file and line (CAF's own INI reader would silently ignore a typo).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gateway/context.hpp"
#include "actors/webhooks.hpp"
#include "protocol/limits.hpp"

namespace hotlead {

/// The thread count "auto" stands for: half the cores, at least one.
size_t auto_threads();

struct config {
  config() {
    edge.io_threads = auto_threads();
  }

  edge_config edge;
  limits lim;
  std::string data_dir = "./hotlead-data";
  bool sync = true; // storage.durability
  uint64_t max_events_per_lead = 1000;
  size_t replay_window = 10000; // stream.replay_window: feed messages kept per org
  sender_options webhooks;      // [webhooks]
  std::chrono::milliseconds record_interval{2000}; // storage.record_interval
  uint64_t min_free_bytes = 64ull << 20;
  size_t shards = 4;
  size_t workers = auto_threads();
  std::string policy = "stealing";
  std::string log_level = "info";
  std::string log_format = "text";
  std::chrono::milliseconds shutdown_grace{10000};
  std::string bootstrap_key;
  bool demo = true;
  uint64_t demo_leads = 10000; // synthetic leads in the demo org on first start
};

/// Applies one `section.key = value`; returns an error message or "".
std::string set_option(config& c, const std::string& key, const std::string& value);

/// Reads an INI file into `c`; returns an error message or "".
std::string load_config_file(config& c, const std::string& path);

/// Checks cross-field rules (ranges); returns an error message or "".
std::string validate(const config& c);

/// Every key with its default, in file order (used by `hotlead config`).
std::vector<std::pair<std::string, std::string>> known_keys();

} // namespace hotlead
