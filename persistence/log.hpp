// One spdlog logger per component ("gateway", "shard", "store", "cluster",
// "app"). The server configures them at start (level, text or JSON lines);
// a component used elsewhere (unit tests) gets a default stderr logger.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace hotlead {

inline std::shared_ptr<spdlog::logger> component_log(const std::string& name) {
  if (auto lg = spdlog::get(name))
    return lg;
  try {
    return spdlog::stderr_color_mt(name);
  } catch (const spdlog::spdlog_ex&) {
    return spdlog::get(name); // created concurrently by another thread
  }
}

} // namespace hotlead
