// `hotlead serve`: configuration → logging → RocksDB → journal → actors
// (recovery) → HTTP edge, then wait for SIGINT/SIGTERM and stop in reverse:
// stop accepting, finish in-flight requests, stop actors, flush the
// journal, close RocksDB. The HTTP edge starts before recovery so /healthz
// answers at once and /readyz turns ready when memory is rebuilt.
#include <caf/all.hpp>

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "actors/node.hpp"
#include "app/bootstrap.hpp"
#include "app/demo.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "gateway/server.hpp"
#include "actors/feed_hub.hpp"
#include "actors/jobs.hpp"
#include "actors/webhooks.hpp"
#include "gateway/auth.hpp"
#include "gateway/webhook_sender.hpp"
#include "persistence/journal.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"

namespace hotlead {

namespace {

constexpr const char* serve_help = R"(usage: hotlead serve [options]

  --config FILE         configuration file (default: cluster.conf when present)
  --port N              HTTP port (server.port, default 8080; 0 = any free port)
  --bind ADDR           listen address (server.bind, default 127.0.0.1)
  --data DIR            data directory (storage.data, default ./hotlead-data)
  --shards N            shard actors (actors.shards, default 4)
  --durability MODE     sync (fsync before answering, default) or async
  --io-threads N        HTTP io threads (server.io_threads, default auto: half the cores)
  --workers N           CAF scheduler threads (actors.workers, default auto: half the cores)
  --log-level LEVEL     trace, debug, info, warn, error, off
  --set KEY=VALUE       any cluster.conf key, e.g. --set limits.max_tags=8
  --bootstrap-key KEY   root key to create on first start (or HOTLEAD_BOOTSTRAP_KEY)
  --no-demo             on first start, do not create the demo org
  --demo-leads N        synthetic leads (with activity) in the demo org on first start
                        (default 10000; 0 = an empty demo org)
)";

std::string build_config(const std::vector<std::string>& args, config& c) {
  std::vector<std::pair<std::string, std::string>> flags;
  auto err = parse_flags(args,
                         {"config", "port", "bind", "data", "shards", "durability",
                          "io-threads", "workers", "log-level", "set", "bootstrap-key", "demo-leads"},
                         {"no-demo", "help"}, flags);
  if (!err.empty())
    return err;
  std::string file = "cluster.conf";
  bool explicit_file = false;
  for (auto& [k, v] : flags) {
    if (k == "help")
      return "help";
    if (k == "config") {
      file = v;
      explicit_file = true;
    }
  }
  if (explicit_file || std::filesystem::exists(file))
    if (err = load_config_file(c, file); !err.empty())
      return err;
  static const std::vector<std::pair<std::string, std::string>> map = {
    {"port", "server.port"},         {"bind", "server.bind"},
    {"data", "storage.data"},        {"shards", "actors.shards"},
    {"durability", "storage.durability"}, {"io-threads", "server.io_threads"},
    {"workers", "actors.workers"},   {"log-level", "log.level"}};
  for (auto& [k, v] : flags) {
    for (auto& [flag, key] : map)
      if (k == flag && !(err = set_option(c, key, v)).empty())
        return "--" + k + ": " + err;
    if (k == "set") {
      auto eq = v.find('=');
      if (eq == std::string::npos)
        return "--set takes KEY=VALUE, e.g. --set server.port=9090";
      if (err = set_option(c, v.substr(0, eq), v.substr(eq + 1)); !err.empty())
        return "--set: " + err;
    }
    if (k == "bootstrap-key")
      c.bootstrap_key = v;
    if (k == "no-demo")
      c.demo = false;
    if (k == "demo-leads") {
      char* end = nullptr;
      c.demo_leads = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end || c.demo_leads > 10'000'000)
        return "--demo-leads takes a count from 0 to 10000000";
    }
  }
  if (c.bootstrap_key.empty())
    if (auto* env = std::getenv("HOTLEAD_BOOTSTRAP_KEY"))
      c.bootstrap_key = env;
  return validate(c);
}

class actor_config : public caf::actor_system_config {
public:
  explicit actor_config(const config& c) {
    set("scheduler.max-threads", c.workers);
    set("scheduler.policy", c.policy == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
    set("logger.verbosity", caf::atom("quiet"));
    // An idle worker spins briefly, then waits on its condition variable
    // (woken by the next enqueue) instead of CAF's default 500 polls with a
    // 50 us sleep each: those sleeps cost a context switch every ~100 us
    // between bursts of work, and a message arriving during one waits for
    // it. Worker CPU per durable write -25%, throughput up (docs/PERFORMANCE.md).
    set("work-stealing.moderate-poll-attempts", size_t{0});
    set("logger.console", caf::atom("none"));
  }
};

int wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

} // namespace

int cmd_serve(const std::vector<std::string>& args) {
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  config c;
  if (auto err = build_config(args, c); !err.empty()) {
    if (err == "help") {
      std::fputs(serve_help, stdout);
      return 0;
    }
    std::fprintf(stderr, "hotlead serve: %s\n", err.c_str());
    return 2;
  }
  setup_logging(c);
  auto log = component_log("app");
  // Each connection is a descriptor: raise the soft limit (often 1024) to
  // the hard one, and say so when server.max_connections does not fit.
  rlimit fds{};
  if (getrlimit(RLIMIT_NOFILE, &fds) == 0) {
    if (fds.rlim_cur < fds.rlim_max) {
      fds.rlim_cur = fds.rlim_max;
      setrlimit(RLIMIT_NOFILE, &fds);
    }
    if (fds.rlim_cur < c.edge.max_connections + 256)
      log->warn("the descriptor limit ({}) is below server.max_connections ({}) + 256: raise "
                "it (ulimit -n) or lower server.max_connections",
                fds.rlim_cur, c.edge.max_connections);
  }
  auto db_dir = (std::filesystem::path{c.data_dir} / "db").string();
  c.edge.snapshot_dir = (std::filesystem::path{c.data_dir} / "snapshots").string();
  std::optional<problem> err;
  auto db = store::open(db_dir, err);
  if (!db) {
    log->critical("{}", err->detail);
    return 1;
  }
  // The change feed: its journaled window back in memory, then the journal
  // numbers each org's messages on from there and publishes them to it
  // (the hub outlives the journal, whose last commits publish to it).
  feed_hub feed{c.replay_window};
  if (auto e = feed.load(*db)) {
    log->critical("{}", e->detail);
    return 1;
  }
  // Webhooks: the book taps every feed message into the outbox of the same
  // batch; the sender POSTs what is durable (and what was pending at the
  // last stop).
  webhook_book book;
  book.register_rules(&feed.thresholds());
  if (auto e = book.load(*db)) {
    log->critical("{}", e->detail);
    return 1;
  }
  journal jr{*db, c.sync, c.min_free_bytes};
  jr.set_feed({c.replay_window, feed.heads(),
               [&feed](std::vector<feed_message>&& m) { feed.publish(std::move(m)); },
               [&book](const feed_message& m, std::vector<write_op>& ops) { book.tap(m, ops); },
               [&book](bool durable) { book.settled(durable); }});
  webhook_sender sender{*db, jr, book, c.webhooks};
  // The journal's callbacks reach the sender: on every way out (an early
  // `return 1` too) the journal stops before the sender goes.
  struct journal_first {
    journal& j;
    ~journal_first() {
      j.stop();
    }
  } stop_journal_first{jr};
  book.on_deliveries([&sender](std::vector<webhook_book::due>&& d) { sender.add(std::move(d)); });
  if (auto e = sender.start()) {
    log->critical("{}", e->detail);
    return 1;
  }
  auto token_secret = db->get_meta("stream_token_secret");
  if (!token_secret) {
    token_secret = random_hex(32);
    if (auto e = db->put_meta("stream_token_secret", *token_secret)) {
      log->critical("{}", e->detail);
      return 1;
    }
  }
  stream_tokens tokens{*token_secret};
  actor_config acfg{c};
  caf::actor_system sys{acfg};
  node_options nopts{c.shards, c.lim, c.max_events_per_lead, 2, c.record_interval,
                     &feed.thresholds()};
  node nd{sys, *db, jr, nopts};
  key_table keys;
  metrics edge_metrics;
  edge_env env{nullptr, nullptr, nullptr, {}, keys, edge_metrics, nd.stats(), jr, *db, c.lim, c.edge};
  env.feed = &feed;
  env.tokens = &tokens;
  env.webhooks = &book;
  env.sender = &sender;
  server srv{sys, env};
  if (auto e = srv.start()) {
    log->critical("{}", e->detail);
    return 1;
  }
  log->info("listening on http://{}:{} ({} io threads, {} shards, durability {}, data {})",
            c.edge.bind, srv.port(), c.edge.io_threads, c.shards, c.sync ? "sync" : "async",
            c.data_dir);
  recovery_report report;
  std::vector<recovered_key> recovered;
  if (auto e = nd.start(report, recovered)) {
    log->critical("recovery failed: {}", e->detail);
    srv.drain(std::chrono::milliseconds{0});
    return 1;
  }
  log->info("recovered {} leads, {} orgs, {} keys in {:.3f} s ({} events replayed onto {} "
            "leads)",
            report.leads, report.orgs, report.keys, report.seconds, report.tail_events,
            report.tail_leads);
  for (auto& k : recovered)
    keys.add(k.record, k.org_actor);
  env.rt = &nd.routes();
  env.models = &nd.models();
  env.jobs = &nd.jobs();
  job_reporter reporter{nd.jobs(), jr, std::chrono::milliseconds{500}};
  env.catalog = nd.catalog();
  std::string demo_key;
  if (auto e = bootstrap(c, *db, jr, sys, nd, keys, srv.port(), demo_key)) {
    log->critical("bootstrap failed: {}", e->detail);
    srv.drain(std::chrono::milliseconds{0});
    return 1;
  }
  env.ready = true;
  log->info("ready");
  std::thread demo;
  if (!demo_key.empty() && c.demo_leads > 0)
    demo = std::thread{[&, key = demo_key] {
      demo_fill d;
      d.host = c.edge.bind == "0.0.0.0" || c.edge.bind == "::" ? "127.0.0.1" : c.edge.bind;
      d.port = std::to_string(srv.port());
      d.key = key;
      d.leads = c.demo_leads;
      uint64_t events = 0;
      auto t0 = std::chrono::steady_clock::now();
      if (auto e = fill_demo(d, &events))
        return log->warn("demo data: {}", *e);
      log->info("demo org filled: {} leads with {} events in {:.1f} s", d.leads, events,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }};
  int sig = wait_for_signal();
  log->info("received {}, shutting down (grace {} ms)", sig == SIGINT ? "SIGINT" : "SIGTERM",
            c.shutdown_grace.count());
  srv.drain(c.shutdown_grace);
  if (demo.joinable())
    demo.join(); // its requests fail once the server drains
  reporter.stop();
  nd.stop();
  sender.stop();
  jr.stop();
  db->close(jr.last_error().empty());
  log->info("stopped");
  return 0;
}

} // namespace hotlead
