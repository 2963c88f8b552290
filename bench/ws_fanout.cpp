// hotlead-wsfanout: the change feed (GET /v1/stream) under load, with this
// project's own Beast WebSocket client. It creates --leads leads through
// the API (loadgen_setup.hpp), then either checks the feed's promises with a
// few subscribers (--check, ws_check.hpp) or measures N subscribers against
// a writer (the default, ws_bench.hpp). This file parses the command line,
// raises the open-file limit for the sockets and hands over. Standard
// library and Boost only: it must not depend on the server's code.
#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "loadgen_setup.hpp"
#include "ws_bench.hpp"
#include "ws_check.hpp"
#include "ws_fanout.hpp"

using namespace hotlead::bench;

namespace {

constexpr const char* usage = R"(usage: hotlead-wsfanout --key KEY [--check] [options]

  --host H            server address (default 127.0.0.1)
  --port P            server port (default 8080)
  --key KEY           an org key that writes leads (admin, manager, sales_rep)
  --leads L           leads created first; writes go round-robin over them,
                      at most one in flight per lead (default 1000; --check 20)
  --subscribers N     WebSocket subscribers (default 1000; --check 20)
  --topic T           leads: every subscriber takes every change (default);
                      lead: each one subscribes to "lead:<id>" of its own
                      leads (lead j: subscribers j .. j+W-1 mod N; needs L >= N)
  --watchers W        --topic lead: subscribers per lead (default 1)
  --connections C     writer keep-alive connections (default 64; --check 8)
  --rate R            paced writes/s (default 10000; --check 2000)
  --duration D        seconds measured in each bench phase (default 10)
  --warmup W          seconds before each measured window (default 1)
  --cycles K          max-rate windows with the subscribers attached, each
                      between two without them (default 3)
  --subscriber-priority P
                      idle (default): the subscribers' thread is SCHED_IDLE,
                      so that their wake-ups do not preempt the server on
                      this machine; normal: as the writer's thread
  --skip-max-rate     the paced phase alone (no max-rate phases)
  --server-pid PID    also report the server's CPU time per delivery
  --check             functional check instead of the benchmark: --writes M
                      events (default 2000); every subscriber gets every
                      message once, in seq order, and subscriber 0 closes
                      mid-way and resumes without loss; exit 1 on a violation
  --writes M          --check: events written in all
  --timeout T         --check: give up after T seconds (default 60)

Prints one JSON line of results on stdout, progress on stderr.
)";

// Reads `v` into `field` as its type wants; throws on a malformed number.
template <class T>
void read_value(T& field, const std::string& v) {
  if constexpr (std::is_same_v<T, std::string>)
    field = v;
  else if constexpr (std::is_floating_point_v<T>)
    field = std::stod(v);
  else if constexpr (std::is_signed_v<T>)
    field = static_cast<T>(std::stoll(v));
  else
    field = static_cast<T>(std::stoull(v));
}

std::optional<fanout_options> parse_args(int argc, char** argv) {
  fanout_options o;
  auto fail = [](const std::string& msg) -> std::optional<fanout_options> {
    std::fprintf(stderr, "hotlead-wsfanout: %s\n%s", msg.c_str(), usage);
    return std::nullopt;
  };
  std::vector<std::string> args{argv + 1, argv + argc};
  if (std::find(args.begin(), args.end(), "--check") != args.end()) {
    o.check = true;
    o.leads = o.subscribers = 20;
    o.connections = 8;
    o.rate = 2000;
  }
  std::string topic = "leads", priority = "idle";
  // The options that take a value, each read into its field.
  using setter = std::function<void(const std::string&)>;
  auto into = [](auto& field) -> setter {
    return [&field](const std::string& v) { read_value(field, v); };
  };
  const std::map<std::string, setter> valued{
    {"--host", into(o.host)},           {"--port", into(o.port)},
    {"--key", into(o.key)},             {"--leads", into(o.leads)},
    {"--subscribers", into(o.subscribers)}, {"--topic", into(topic)},
    {"--watchers", into(o.watchers)},   {"--connections", into(o.connections)},
    {"--rate", into(o.rate)},           {"--duration", into(o.duration)},
    {"--warmup", into(o.warmup)},       {"--writes", into(o.writes)},
    {"--cycles", into(o.cycles)},       {"--subscriber-priority", into(priority)},
    {"--timeout", into(o.timeout)},     {"--server-pid", into(o.server_pid)},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (a == "--check")
      continue;
    if (a == "--skip-max-rate") {
      o.skip_max_rate = true;
      continue;
    }
    auto set = valued.find(a);
    if (set == valued.end())
      return fail("unknown option " + a);
    if (i + 1 >= args.size())
      return fail(a + " needs a value");
    try {
      set->second(args[++i]);
    } catch (const std::exception&) {
      return fail("bad value for " + a + ": " + args[i]);
    }
  }
  if (o.key.empty())
    return fail("--key is required");
  if (topic != "leads" && topic != "lead")
    return fail("--topic is leads or lead, not " + topic);
  o.per_lead_topics = topic == "lead";
  if (priority != "idle" && priority != "normal")
    return fail("--subscriber-priority is idle or normal, not " + priority);
  // --check is a functional test run beside others: normal priority.
  o.subscriber_idle = priority == "idle" && !o.check;
  if (!o.leads || !o.subscribers || !o.connections || !o.watchers || !o.cycles)
    return fail("--leads, --subscribers, --connections, --watchers and --cycles must be at "
                "least 1");
  if (o.per_lead_topics && (o.leads < o.subscribers || o.watchers > o.subscribers))
    return fail("--topic lead needs --leads >= --subscribers >= --watchers "
                "(every subscriber watches a lead, no lead twice by one subscriber)");
  if (o.per_lead_topics && o.check)
    return fail("--check subscribes to \"leads\" alone; drop --topic lead");
  if (o.rate <= 0 || o.duration <= 0 || o.warmup < 0)
    return fail("--rate and --duration must be positive, --warmup not negative");
  if (o.check && o.writes < 8)
    return fail("--check needs --writes of at least 8 (the resume drill needs room)");
  return o;
}

// Every subscriber and writer connection is a socket, and the usual soft
// limit (1024) is below what 1000 subscribers need.
void raise_fd_limit(size_t need) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
    return;
  rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, need);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < need)
    std::fprintf(stderr, "hotlead-wsfanout: only %llu file descriptors allowed (hard limit), "
                         "%zu wanted; raise it with ulimit -Hn\n",
                 static_cast<unsigned long long>(rl.rlim_cur), need);
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (!parsed)
    return 2;
  const fanout_options o = *parsed;
  raise_fd_limit(o.subscribers + o.connections + 64);

  tcp::endpoint ep;
  try {
    asio::io_context ioc;
    ep = *tcp::resolver{ioc}.resolve(o.host, std::to_string(o.port)).begin();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hotlead-wsfanout: cannot resolve %s: %s\n", o.host.c_str(), e.what());
    return 1;
  }

  options setup; // hotlead-bench's --setup creates the leads
  setup.host = o.host;
  setup.port = o.port;
  setup.key = o.key;
  setup.setup = o.leads;
  setup.setup_connections = std::min<size_t>(o.leads, 16);
  std::vector<std::string> ids;
  if (!setup_leads(setup, ep, ids))
    return 1;

  fanout f{o, ep, ids};
  if (o.check)
    return run_check(o, f);
  return bench_run{o, f}.run();
}
