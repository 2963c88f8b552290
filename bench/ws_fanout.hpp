// hotlead-wsfanout's run: its options, and the `fanout` that the check
// (ws_check.hpp) and the benchmark (ws_bench.hpp) drive, two io threads
// under one main thread: the writer's (ws_writer.hpp) and the subscribers'
// (ws_client.hpp), each running its own io_context, so the subscribers'
// work never delays a write and a write-throughput comparison measures the
// server, not this client. Threading: main touches the writer and the
// subscribers only through run_on() / start_phase(), which post to their
// thread, and through two atomics (the writer's completed(), env.receipts);
// ~fanout stops and joins both threads before anything they use is gone.
#pragma once

#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ws_client.hpp"
#include "ws_writer.hpp"

namespace hotlead::bench {

struct fanout_options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string key;
  bool check = false;
  size_t subscribers = 1000;
  size_t leads = 1000;
  size_t connections = 64;
  bool per_lead_topics = false; // --topic lead: "lead:<id>" instead of "leads"
  size_t watchers = 1;          // --topic lead: subscribers per lead
  double rate = 10000;
  double duration = 10; // s, each bench phase's measured window
  double warmup = 1;    // s, before each window
  size_t cycles = 3;    // max-rate "with" windows, each between two "without"
  bool subscriber_idle = true; // the subscribers' thread at SCHED_IDLE
  bool skip_max_rate = false; // the paced phase alone
  int server_pid = 0;          // > 0: report the server's CPU time per delivery
  uint64_t writes = 2000;      // --check
  double timeout = 60;         // s, --check
};

/// CPU seconds (user + system) process `pid` has used; -1 when unreadable.
inline double process_cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos)
    return -1;
  std::istringstream rest{line.substr(line.rfind(')') + 2)}; // the name may hold spaces
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) // fields 14 and 15: utime, stime
    if (i == 14)
      utime = std::strtod(field.c_str(), nullptr);
    else if (i == 15)
      stime = std::strtod(field.c_str(), nullptr);
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double own_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// The calling thread's CPU time.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Runs f() on the thread of `ioc` and returns its result to the caller.
template <class F>
auto run_on(asio::io_context& ioc, F f) -> decltype(f()) {
  std::packaged_task<decltype(f())()> task{std::move(f)};
  auto result = task.get_future();
  asio::post(ioc, [&task] { task(); });
  return result.get();
}

inline double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

struct fanout {
  fanout(const fanout_options& o, tcp::endpoint ep, const std::vector<std::string>& ids)
    : log(ids.size(), log_slots_per_lead(o)),
      writer(writer_io, {ep, o.host + ":" + std::to_string(o.port), o.key, o.connections}, ids,
             &log),
      subs(sub_io, env) {
    env.ep = ep;
    env.host = o.host + ":" + std::to_string(o.port);
    env.key = o.key;
    env.ids = ids;
    env.per_lead_topics = o.per_lead_topics;
    env.watchers = o.watchers;
    for (size_t i = 0; i < ids.size(); ++i)
      env.lead_index.emplace(parse_hex_id(ids[i]), static_cast<uint32_t>(i));
    env.log = &log;
    threads.emplace_back([this] {
      auto guard = asio::make_work_guard(writer_io);
      writer_io.run();
    });
    threads.emplace_back([this, idle = o.subscriber_idle] {
      // The subscribers stand in for clients on other machines. On this one
      // a subscriber woken by a delivery would preempt the server thread
      // that sent it (loopback wakes the receiver inside the sender's
      // send); at SCHED_IDLE they take the CPU the server and the writer
      // leave, and their queue at the server drops them if that is not
      // enough (with_live_at_end says so).
      if (idle) {
        sched_param none{};
        if (sched_setscheduler(0, SCHED_IDLE, &none) != 0)
          std::fprintf(stderr, "hotlead-wsfanout: cannot make the subscribers' thread "
                               "SCHED_IDLE; they run at normal priority\n");
      }
      auto guard = asio::make_work_guard(sub_io);
      sub_io.run();
    });
  }
  ~fanout() {
    stop();
  }

  /// Stops both threads; after it, main may read everything directly.
  void stop() {
    writer_io.stop();
    sub_io.stop();
    for (auto& t : threads)
      if (t.joinable())
        t.join();
  }

  /// Starts one writer phase; the future has its result.
  std::future<write_result> start_phase(const write_phase& p) {
    auto done = std::make_shared<std::promise<write_result>>();
    auto result = done->get_future();
    asio::post(writer_io, [this, p, done] {
      writer.run(p, [done](write_result r) { done->set_value(std::move(r)); });
    });
    return result;
  }

  /// The result of a phase; nullopt when it did not end within `limit` s.
  static std::optional<write_result> wait_phase(std::future<write_result>& result, double limit) {
    if (result.wait_for(std::chrono::duration<double>(limit)) != std::future_status::ready)
      return std::nullopt;
    return result.get();
  }

  std::optional<write_result> run_phase(const write_phase& p, double limit) {
    auto result = start_phase(p);
    return wait_phase(result, limit);
  }

  /// Polls pred() on the subscribers' thread until it holds or `limit` s pass.
  template <class Pred>
  bool wait_for_subscribers(Pred pred, double limit) {
    auto t0 = clock_type::now();
    while (!run_on(sub_io, pred)) {
      if (seconds_since(t0) > limit)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return true;
  }

  // A paced phase sends rate x (warmup + duration) writes, spread evenly over
  // the leads by the writer's round robin; twice that leaves room for a lead
  // that went round faster.
  static size_t log_slots_per_lead(const fanout_options& o) {
    if (o.check)
      return 1;
    auto writes = o.rate * (o.warmup + o.duration);
    return static_cast<size_t>(2 * writes / static_cast<double>(std::max<size_t>(o.leads, 1))) + 16;
  }

  asio::io_context writer_io{1}, sub_io{1};
  send_log log;
  fanout_env env;
  http_writer writer;
  subscriber_set subs;
  std::vector<std::thread> threads; // joined by ~fanout before any member goes
};

/// `s` as a JSON string, quotes included.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      c = ' ';
    out += c;
  }
  return out + '"';
}

/// Exit status 1 with the reason on stderr.
inline int failed(const std::string& why) {
  std::fprintf(stderr, "hotlead-wsfanout: FAILED: %s\n", why.c_str());
  return 1;
}

} // namespace hotlead::bench
