#include "app/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

namespace hotlead {

size_t auto_threads() {
  return std::max<size_t>(1, std::thread::hardware_concurrency() / 2);
}

namespace {

using setter = std::function<std::string(config&, const std::string&)>;

std::string parse_size(const std::string& v, size_t& out, size_t lo, size_t hi) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || p != v.data() + v.size() || n < lo || n > hi)
    return "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  out = n;
  return {};
}

// Thread counts: a number, or "auto" for half the cores (at least one). On a
// small machine the edge, the actors, the journal and often a client share
// the cores: on 2 cores one io thread and one worker measured best
// (docs/PERFORMANCE.md); a bigger machine gets more of each.
std::string parse_threads(const std::string& v, size_t& out) {
  if (v == "auto") {
    out = auto_threads();
    return {};
  }
  auto e = parse_size(v, out, 1, 64);
  return e.empty() ? e : "must be auto or a whole number from 1 to 64";
}

// Durations: "250ms", "10s", "2m"; a bare number is milliseconds.
std::string parse_duration(const std::string& v, std::chrono::milliseconds& out) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  std::string unit{p, v.data() + v.size()};
  if (ec != std::errc{})
    return "must be a duration like 500ms, 10s or 2m";
  if (unit.empty() || unit == "ms")
    out = std::chrono::milliseconds{n};
  else if (unit == "s")
    out = std::chrono::seconds{n};
  else if (unit == "m")
    out = std::chrono::minutes{n};
  else
    return "must be a duration like 500ms, 10s or 2m";
  return {};
}

template <class T>
setter size_field(T config::*member_group, size_t T::*field, size_t lo, size_t hi) {
  return [=](config& c, const std::string& v) { return parse_size(v, (c.*member_group).*field, lo, hi); };
}

// A duration of at least 10 ms (timers below that are a typo), into the
// field `field(c)` names.
template <class Field>
setter duration_from_10ms(Field field) {
  return [=](config& c, const std::string& v) {
    auto& d = field(c);
    auto e = parse_duration(v, d);
    return e.empty() && d.count() < 10 ? std::string{"must be at least 10ms"} : e;
  };
}

struct option {
  std::string def;
  setter set;
};

const std::map<std::string, option>& options() {
  static const std::map<std::string, option> table = {
    {"server.bind", {"127.0.0.1", [](config& c, const std::string& v) { c.edge.bind = v; return std::string{}; }}},
    {"server.port", {"8080", [](config& c, const std::string& v) {
       size_t p = 0;
       auto e = parse_size(v, p, 0, 65535);
       c.edge.port = static_cast<uint16_t>(p);
       return e;
     }}},
    {"server.io_threads", {"auto", [](config& c, const std::string& v) { return parse_threads(v, c.edge.io_threads); }}},
    {"server.max_connections", {"10000", size_field(&config::edge, &edge_config::max_connections, 1, 1000000)}},
    {"server.max_body_bytes", {"1048576", size_field(&config::edge, &edge_config::max_body_bytes, 1024, 1ull << 30)}},
    {"server.header_timeout", {"30s", [](config& c, const std::string& v) { return parse_duration(v, c.edge.header_timeout); }}},
    {"server.body_timeout", {"30s", [](config& c, const std::string& v) { return parse_duration(v, c.edge.body_timeout); }}},
    {"server.request_timeout", {"5s", [](config& c, const std::string& v) { return parse_duration(v, c.edge.request_timeout); }}},
    {"server.shutdown_grace", {"10s", [](config& c, const std::string& v) { return parse_duration(v, c.shutdown_grace); }}},
    {"storage.data", {"./hotlead-data", [](config& c, const std::string& v) { c.data_dir = v; return std::string{}; }}},
    {"storage.durability", {"sync", [](config& c, const std::string& v) {
       if (v != "sync" && v != "async")
         return std::string{"must be sync (fsync before answering) or async (WAL written, not fsynced)"};
       c.sync = v == "sync";
       return std::string{};
     }}},
    {"storage.max_events_per_lead", {"1000", [](config& c, const std::string& v) {
       size_t n = 0;
       auto e = parse_size(v, n, 1, 1000000);
       c.max_events_per_lead = n;
       return e;
     }}},
    {"stream.replay_window", {"10000", [](config& c, const std::string& v) {
       size_t n = 0;
       auto e = parse_size(v, n, 1, 10000000);
       c.replay_window = n;
       return e;
     }}},
    {"stream.max_queue", {"4096", size_field(&config::edge, &edge_config::stream_max_queue, 1, 1000000)}},
    {"webhooks.max_attempts", {"10", [](config& c, const std::string& v) {
       size_t n = 0;
       auto e = parse_size(v, n, 1, 100);
       c.webhooks.max_attempts = static_cast<uint32_t>(n);
       return e;
     }}},
    {"webhooks.retry_base", {"1s", duration_from_10ms([](config& c) -> auto& { return c.webhooks.retry_base; })}},
    {"webhooks.retry_max", {"10m", [](config& c, const std::string& v) { return parse_duration(v, c.webhooks.retry_max); }}},
    {"webhooks.timeout", {"10s", duration_from_10ms([](config& c) -> auto& { return c.webhooks.timeout; })}},
    {"webhooks.concurrency", {"4", [](config& c, const std::string& v) { return parse_size(v, c.webhooks.concurrency, 1, 256); }}},
    {"webhooks.keep_delivered", {"1000", [](config& c, const std::string& v) { return parse_size(v, c.webhooks.keep_delivered, 0, 1000000); }}},
    {"storage.record_interval", {"2s", duration_from_10ms([](config& c) -> auto& { return c.record_interval; })}},
    {"storage.min_free_bytes", {"67108864", [](config& c, const std::string& v) {
       size_t n = 0;
       auto e = parse_size(v, n, 0, 1ull << 50);
       c.min_free_bytes = n;
       return e;
     }}},
    {"actors.shards", {"4", [](config& c, const std::string& v) { return parse_size(v, c.shards, 1, 256); }}},
    {"actors.workers", {"auto", [](config& c, const std::string& v) { return parse_threads(v, c.workers); }}},
    {"actors.policy", {"stealing", [](config& c, const std::string& v) {
       if (v != "stealing" && v != "sharing")
         return std::string{"must be stealing or sharing"};
       c.policy = v;
       return std::string{};
     }}},
    {"limits.max_attributes", {"64", size_field(&config::lim, &limits::max_attributes, 0, 1024)}},
    {"limits.max_tags", {"32", size_field(&config::lim, &limits::max_tags, 0, 1024)}},
    {"limits.max_text", {"256", size_field(&config::lim, &limits::max_text, 1, 65536)}},
    {"limits.max_attr_string", {"1024", size_field(&config::lim, &limits::max_attr_string, 1, 65536)}},
    {"limits.max_properties", {"4096", size_field(&config::lim, &limits::max_properties, 2, 1 << 20)}},
    {"limits.max_batch", {"10000", size_field(&config::lim, &limits::max_batch, 1, 1000000)}},
    {"log.level", {"info", [](config& c, const std::string& v) {
       if (v != "trace" && v != "debug" && v != "info" && v != "warn" && v != "error" && v != "off")
         return std::string{"must be trace, debug, info, warn, error or off"};
       c.log_level = v;
       return std::string{};
     }}},
    {"log.format", {"text", [](config& c, const std::string& v) {
       if (v != "text" && v != "json")
         return std::string{"must be text or json"};
       c.log_format = v;
       return std::string{};
     }}},
  };
  return table;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace

std::string set_option(config& c, const std::string& key, const std::string& value) {
  auto& table = options();
  auto i = table.find(key);
  if (i == table.end()) {
    std::string known;
    for (auto& [k, o] : table)
      known += (known.empty() ? "" : ", ") + k;
    return "unknown key '" + key + "' (known keys: " + known + ")";
  }
  auto err = i->second.set(c, value);
  return err.empty() ? err : key + " = '" + value + "': " + err;
}

std::string load_config_file(config& c, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return "cannot read config file " + path;
  std::string line, section;
  for (int n = 1; std::getline(in, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.erase(hash);
    line = trim(line);
    if (line.empty())
      continue;
    auto where = path + ":" + std::to_string(n) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']')
        return where + "a section header looks like [server]";
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return where + "expected 'key = value', got '" + line + "'";
    if (section.empty())
      return where + "'" + trim(line.substr(0, eq)) + "' is outside a [section]";
    auto value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (auto err = set_option(c, section + "." + trim(line.substr(0, eq)), value); !err.empty())
      return where + err;
  }
  return {};
}

std::string validate(const config& c) {
  if (c.edge.request_timeout.count() < 10)
    return "server.request_timeout must be at least 10ms";
  if (c.edge.header_timeout.count() < 100 || c.edge.body_timeout.count() < 100)
    return "server.header_timeout and server.body_timeout must be at least 100ms";
  if (c.data_dir.empty())
    return "storage.data must name a directory";
  return {};
}

std::vector<std::pair<std::string, std::string>> known_keys() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [k, o] : options())
    out.emplace_back(k, o.def);
  return out;
}

} // namespace hotlead
