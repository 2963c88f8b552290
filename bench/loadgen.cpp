// hotlead-bench: an HTTP/1.1 load generator in the spirit of wrk2 and
// redis-benchmark, with Boost.Beast. This file parses the command line, runs
// the optional --setup (loadgen_setup.hpp), drives the run and prints the
// results. N keep-alive connections (loadgen_client.hpp) are spread over T
// threads, each thread running its own io_context. Every connection has one
// request in flight at a time.
//   closed loop (default): a connection sends its next request as soon as
//     the previous reply arrives; latency = reply time - send time.
//   fixed rate (--rate R): R requests/s in total, each connection on its own
//     schedule (R/N per second, phases staggered). Latency is measured from
//     the *scheduled* send time, so a stalled server is charged for the
//     requests it kept waiting (no coordinated omission); a connection that
//     fell behind sends at once until it catches up.
// Samples are taken from replies that complete inside the measured window
// (after --warmup, for --duration). A reply outside 2xx is an error, never a
// success; socket errors (connect, read, write, peer close) are counted
// separately and the connection reconnects. Latencies go into a log-linear
// histogram (loadgen_histogram.hpp). Threading: main sleeps until the
// measured window ends, sets the shared `stopping` flag, stops the
// io_contexts and joins their threads; only then does it read and merge the
// workers' stats.
#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "loadgen_client.hpp"
#include "loadgen_histogram.hpp"
#include "loadgen_options.hpp"
#include "loadgen_setup.hpp"

using namespace hotlead::bench;

namespace {

// -- command line ------------------------------------------------------------------

constexpr const char* usage = R"(usage: hotlead-bench [options]

  --host H            server address (default 127.0.0.1)
  --port P            server port (default 8080)
  --connections N     keep-alive connections (default 64)
  --threads T         client threads, one io_context each (default 1)
  --duration D        measured time, e.g. 10s, 500ms, 1m (default 10s)
  --warmup D          unmeasured time before it (default 2s)
  --key KEY           API key, sent as Authorization: Bearer KEY
  --scenario S        get-lead | post-event | mixed | url (default url)
                        get-lead   GET /v1/leads/{id}, id uniform from --ids
                        post-event POST /v1/leads/{id}/events (6 weighted types)
                        mixed      80% get-lead, 20% post-event (--mixed-get 0.8)
                        url        GET --url (e.g. against nginx's fixed 200)
  --url PATH          path for the url scenario (default /)
  --ids FILE          lead ids, one per line (read; or written by --setup)
  --setup N           first create N leads via POST /v1/leads (needs --key);
                      their ids are used, and written to --ids when given
  --setup-events E    and record E events per lead via POST /v1/events:batch
  --setup-connections C  parallel connections for the setup (default 16)
  --setup-only        exit after the setup (with --setup and --ids)
  --rate R            fixed rate, R requests/s in total (default: closed loop)
  --server-pid PID    also measure the CPU time of process PID and its child
                      processes (e.g. nginx workers) during the measured time
  --json              print one JSON line of results instead of a table
)";

// CPU seconds used so far by this process and by the server (a process and
// its children, read from /proc; -1 when it cannot be read).
struct cpu_sample {
  double client_s = 0;
  double server_s = -1;
};

double proc_cpu_seconds(const std::string& stat_path, int* ppid = nullptr) {
  std::ifstream in{stat_path};
  std::string line;
  if (!std::getline(in, line))
    return -1;
  auto close = line.rfind(')'); // the command name may hold spaces
  if (close == std::string::npos)
    return -1;
  // After ") ": state ppid ... utime (field 14) stime (field 15).
  std::vector<std::string> f;
  size_t pos = close + 2;
  while (pos < line.size() && f.size() < 13) {
    auto sp = line.find(' ', pos);
    f.push_back(line.substr(pos, sp - pos));
    pos = sp == std::string::npos ? line.size() : sp + 1;
  }
  if (f.size() < 13)
    return -1;
  if (ppid)
    *ppid = std::atoi(f[1].c_str());
  static const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / hz;
}

cpu_sample sample_cpu(int server_pid) {
  cpu_sample s;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  s.client_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (server_pid <= 0)
    return s;
  s.server_s = proc_cpu_seconds("/proc/" + std::to_string(server_pid) + "/stat");
  if (s.server_s < 0)
    return s;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator{"/proc", ec}) {
    auto name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    int ppid = 0;
    double c = proc_cpu_seconds(e.path().string() + "/stat", &ppid);
    if (c >= 0 && ppid == server_pid)
      s.server_s += c;
  }
  return s;
}

bool parse_duration(const std::string& s, double& out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0)
    return false;
  std::string unit{end};
  if (unit.empty() || unit == "s")
    out = v;
  else if (unit == "ms")
    out = v / 1000;
  else if (unit == "m")
    out = v * 60;
  else
    return false;
  return true;
}

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  auto fail = [](const std::string& msg) -> std::optional<options> {
    std::fprintf(stderr, "hotlead-bench: %s\n%s", msg.c_str(), usage);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--setup-only") {
      o.setup_only = true;
      continue;
    }
    if (i + 1 >= argc)
      return fail(a + " needs a value");
    std::string v = argv[++i];
    try {
      if (a == "--host")
        o.host = v;
      else if (a == "--port")
        o.port = static_cast<uint16_t>(std::stoul(v));
      else if (a == "--connections")
        o.connections = std::stoul(v);
      else if (a == "--threads")
        o.threads = std::stoul(v);
      else if (a == "--server-pid") {
        o.server_pid = std::atoi(v.c_str());
        if (o.server_pid <= 0)
          return fail("bad --server-pid " + v);
      } else if (a == "--duration") {
        if (!parse_duration(v, o.duration))
          return fail("bad --duration " + v);
      } else if (a == "--warmup") {
        if (!parse_duration(v, o.warmup))
          return fail("bad --warmup " + v);
      } else if (a == "--key")
        o.key = v;
      else if (a == "--scenario") {
        if (v == "get-lead")
          o.sc = scenario::get_lead;
        else if (v == "post-event")
          o.sc = scenario::post_event;
        else if (v == "mixed")
          o.sc = scenario::mixed;
        else if (v == "score-stateless")
          o.sc = scenario::score_stateless;
        else if (v == "url")
          o.sc = scenario::url;
        else
          return fail("unknown --scenario " + v);
      } else if (a == "--url")
        o.url = v;
      else if (a == "--ids")
        o.ids_file = v;
      else if (a == "--setup")
        o.setup = std::stoul(v);
      else if (a == "--setup-events")
        o.setup_events = std::stoul(v);
      else if (a == "--setup-connections")
        o.setup_connections = std::max<size_t>(1, std::stoul(v));
      else if (a == "--rate")
        o.rate = std::stod(v);
      else if (a == "--mixed-get")
        o.mixed_get = std::stod(v);
      else
        return fail("unknown option " + a);
    } catch (const std::exception&) {
      return fail("bad value for " + a + ": " + v);
    }
  }
  if (o.connections == 0 || o.threads == 0)
    return fail("--connections and --threads must be at least 1");
  if (o.duration <= 0)
    return fail("--duration must be positive");
  if (o.sc != scenario::url && o.key.empty())
    return fail("hotlead scenarios need --key");
  if (o.setup && o.key.empty())
    return fail("--setup needs --key");
  return o;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (!parsed)
    return 2;
  const options o = *parsed;

  tcp::endpoint ep;
  try {
    asio::io_context ioc;
    tcp::resolver res{ioc};
    auto r = res.resolve(o.host, std::to_string(o.port));
    ep = *r.begin();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hotlead-bench: cannot resolve %s: %s\n", o.host.c_str(), e.what());
    return 1;
  }

  std::vector<std::string> ids;
  if (o.setup) {
    if (!setup_leads(o, ep, ids))
      return 1;
    if (!o.ids_file.empty()) {
      std::ofstream out{o.ids_file};
      for (auto& id : ids)
        out << id << '\n';
      if (!out) {
        std::fprintf(stderr, "hotlead-bench: cannot write %s\n", o.ids_file.c_str());
        return 1;
      }
    }
  } else if (!o.ids_file.empty()) {
    std::ifstream in{o.ids_file};
    if (!in) {
      std::fprintf(stderr, "hotlead-bench: cannot read %s\n", o.ids_file.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);)
      if (!line.empty())
        ids.push_back(line);
  }
  if (o.setup_only)
    return 0;
  if (o.sc != scenario::url && o.sc != scenario::score_stateless && ids.empty()) {
    std::fprintf(stderr, "hotlead-bench: scenario %s needs lead ids (--ids FILE or --setup N)\n",
                 scenario_name(o.sc));
    return 1;
  }

  request_factory factory{o, ids};
  std::atomic<bool> stopping{false};
  std::vector<std::unique_ptr<worker>> workers;
  for (size_t t = 0; t < o.threads; ++t) {
    workers.push_back(std::make_unique<worker>());
    workers.back()->stopping = &stopping;
  }
  run_clock rc;
  rc.start = clock_type::now();
  auto to_dur = [](double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  };
  rc.measure_from = rc.start + to_dur(o.warmup);
  rc.measure_to = rc.measure_from + to_dur(o.duration);
  for (size_t c = 0; c < o.connections; ++c) {
    auto& w = *workers[c % o.threads];
    auto conn = std::make_shared<connection>(w, o, factory, rc, ep, c);
    asio::post(w.ioc, [conn] { conn->start(); });
  }
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] {
      auto guard = asio::make_work_guard(w->ioc);
      w->ioc.run();
    });
  std::this_thread::sleep_until(rc.measure_from);
  const cpu_sample cpu0 = sample_cpu(o.server_pid);
  std::this_thread::sleep_until(rc.measure_to);
  const cpu_sample cpu1 = sample_cpu(o.server_pid);
  stopping = true;
  for (auto& w : workers)
    w->ioc.stop();
  for (auto& t : threads)
    t.join();

  thread_stats all;
  for (auto& w : workers) {
    auto& s = w->stats;
    all.lat.merge(s.lat);
    all.ok += s.ok;
    all.non2xx += s.non2xx;
    all.socket_errors += s.socket_errors;
    all.reconnects += s.reconnects;
    all.reads += s.reads;
    all.writes += s.writes;
    for (size_t k = 0; k < s.statuses.size(); ++k)
      all.statuses[k] += s.statuses[k];
    if (all.first_error.empty())
      all.first_error = s.first_error;
    if (all.first_bad_body.empty())
      all.first_bad_body = s.first_bad_body;
  }
  const uint64_t requests = all.ok + all.non2xx + all.socket_errors;
  const double secs = o.duration;
  const double tput = static_cast<double>(all.ok) / secs;
  auto us = [&](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  const double p50 = us(all.lat.quantile(0.50)), p99 = us(all.lat.quantile(0.99)),
               p999 = us(all.lat.quantile(0.999)), mx = us(all.lat.max()),
               mean = all.lat.mean() / 1000.0;

  // CPU time per request: the machine is shared by client and server, so
  // both matter when comparing servers (docs/PERFORMANCE.md).
  const double per_req = static_cast<double>(std::max<uint64_t>(requests, 1));
  const double client_us = (cpu1.client_s - cpu0.client_s) * 1e6 / per_req;
  const double server_us =
    o.server_pid > 0 && cpu0.server_s >= 0 && cpu1.server_s >= 0
      ? (cpu1.server_s - cpu0.server_s) * 1e6 / per_req
      : -1;

  if (!all.first_error.empty())
    std::fprintf(stderr, "first socket error: %s\n", all.first_error.c_str());
  if (!all.first_bad_body.empty())
    std::fprintf(stderr, "first non-2xx reply: %s\n", all.first_bad_body.c_str());

  if (o.json) {
    std::string statuses;
    for (unsigned k = 0; k < all.statuses.size(); ++k) {
      auto v = all.statuses[k];
      if (!v)
        continue;
      if (!statuses.empty())
        statuses += ',';
      statuses += "\"" + std::to_string(k) + "\":" + std::to_string(v);
    }
    std::printf("{\"scenario\":\"%s\",\"connections\":%zu,\"threads\":%zu,\"rate\":%.0f,"
                "\"duration_s\":%.3f,\"requests\":%" PRIu64 ",\"ok\":%" PRIu64
                ",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64 ",\"errors_non2xx\":%" PRIu64
                ",\"errors_socket\":%" PRIu64 ",\"reconnects\":%" PRIu64
                ",\"throughput\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
                "\"max_us\":%.1f,\"mean_us\":%.1f,\"client_cpu_us_per_req\":%.2f,"
                "\"server_cpu_us_per_req\":%.2f,\"statuses\":{%s}}\n",
                scenario_name(o.sc), o.connections, o.threads, o.rate, secs, requests, all.ok,
                all.reads, all.writes, all.non2xx, all.socket_errors, all.reconnects, tput, p50,
                p99, p999, mx, mean, client_us, server_us, statuses.c_str());
  } else {
    std::printf("scenario %s, %zu connections, %zu threads, %s, %.1f s measured after %.1f s "
                "warm-up\n",
                scenario_name(o.sc), o.connections, o.threads,
                o.rate > 0 ? ("fixed rate " + std::to_string(static_cast<long>(o.rate)) +
                              " req/s").c_str()
                           : "closed loop",
                secs, o.warmup);
    std::printf("  requests     %" PRIu64 "  (2xx %" PRIu64 ", non-2xx %" PRIu64
                ", socket errors %" PRIu64 ")\n",
                requests, all.ok, all.non2xx, all.socket_errors);
    if (o.sc == scenario::mixed)
      std::printf("  mix          %" PRIu64 " reads, %" PRIu64 " writes\n", all.reads,
                  all.writes);
    std::printf("  throughput   %.1f req/s (2xx only)\n", tput);
    std::printf("  latency us   p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n", p50,
                p99, p999, mx, mean);
    std::printf("  cpu us/req   client %.2f", client_us);
    if (server_us >= 0)
      std::printf("  server %.2f", server_us);
    std::printf("\n");
    std::printf("  statuses    ");
    for (unsigned k = 0; k < all.statuses.size(); ++k)
      if (all.statuses[k])
        std::printf(" %u:%" PRIu64, k, all.statuses[k]);
    std::printf("\n");
  }
  return 0;
}
