// hotlead-bench's --setup: creates the leads (and, with --setup-events, their
// events) through the API before a run, with blocking Beast calls: POST
// /v1/leads, then NDJSON batches of up to 2000 events to POST
// /v1/events:batch. Threading: main calls setup_leads alone; it starts its own
// threads (--setup-connections for the leads, up to 4 for the events), each
// with its own io_context and connection, hands out work through an atomic
// counter (a thread fills only its own slots of `ids`), keeps the first error
// under a mutex, and joins every thread before it returns.
#pragma once

#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "loadgen_options.hpp"

namespace hotlead::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

inline std::string extract_id(const std::string& body) {
  auto p = body.find("\"id\":\"");
  if (p == std::string::npos || p + 6 + 16 > body.size())
    return {};
  return body.substr(p + 6, 16);
}

inline int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

inline bool setup_leads(const options& o, tcp::endpoint ep, std::vector<std::string>& ids) {
  const size_t n = o.setup;
  ids.assign(n, {});
  const uint64_t seed = static_cast<uint64_t>(now_epoch_ms());
  const int64_t now = now_epoch_ms();
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mtx;
  std::string error;
  auto fail = [&](std::string msg) {
    std::lock_guard lk{mtx};
    if (error.empty())
      error = std::move(msg);
    failed = true;
  };
  auto t0 = clock_type::now();
  const std::string host = o.host + ":" + std::to_string(o.port);

  auto exchange = [&](beast::tcp_stream& stream, beast::flat_buffer& buf, http::verb verb,
                      const std::string& target, const char* ctype, std::string body,
                      http::response<http::string_body>& res) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::authorization, "Bearer " + o.key);
    req.set(http::field::content_type, ctype);
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream, req);
    res = {};
    http::read(stream, buf, res);
  };

  // Runs step(stream, buf, res, i) for every i in [0, count) over up to
  // `threads` keep-alive connections; a step returns false after fail().
  auto run_pool = [&](size_t threads, size_t count, const char* what, auto step) {
    next = 0;
    auto work = [&] {
      try {
        asio::io_context ioc;
        beast::tcp_stream stream{ioc};
        stream.connect(ep);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        for (size_t i; !failed && (i = next.fetch_add(1)) < count;)
          if (!step(stream, buf, res, i))
            return;
      } catch (const std::exception& e) {
        fail(std::string{what} + e.what());
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 0; t < std::min(threads, count); ++t)
      pool.emplace_back(work);
    for (auto& t : pool)
      t.join();
  };

  // Phase 1: the leads.
  run_pool(o.setup_connections, n, "setup: ",
           [&](beast::tcp_stream& stream, beast::flat_buffer& buf,
               http::response<http::string_body>& res, size_t i) {
             auto l = make_sample(seed, i, 0, now);
             exchange(stream, buf, http::verb::post, "/v1/leads", "application/json",
                      create_body(l), res);
             if (res.result_int() != 201) {
               fail("POST /v1/leads answered " + std::to_string(res.result_int()) + ": " +
                    res.body());
               return false;
             }
             ids[i] = extract_id(res.body());
             if (ids[i].size() != 16) {
               fail("POST /v1/leads answered no id: " + res.body());
               return false;
             }
             return true;
           });
  if (failed) {
    std::fprintf(stderr, "hotlead-bench: setup failed: %s\n", error.c_str());
    return false;
  }
  auto t1 = clock_type::now();
  std::fprintf(stderr, "setup: created %zu leads in %.2f s\n", n,
               std::chrono::duration<double>(t1 - t0).count());
  if (!o.setup_events)
    return true;

  // Phase 2: events, as NDJSON batches of up to 2000 items.
  std::vector<std::string> batches;
  {
    std::string cur;
    size_t in_cur = 0;
    for (size_t i = 0; i < n; ++i) {
      auto l = make_sample(seed, i, o.setup_events, now);
      for (auto& ev : l.events) {
        cur += "{\"lead_id\":\"" + ids[i] + "\",\"type\":\"" + ev.type +
               "\",\"ts\":" + std::to_string(ev.ts) + ",\"properties\":" + ev.properties_json +
               "}\n";
        if (++in_cur == 2000) {
          batches.push_back(std::move(cur));
          cur.clear();
          in_cur = 0;
        }
      }
    }
    if (in_cur)
      batches.push_back(std::move(cur));
  }
  std::atomic<uint64_t> accepted{0};
  run_pool(4, batches.size(), "setup events: ",
           [&](beast::tcp_stream& stream, beast::flat_buffer& buf,
               http::response<http::string_body>& res, size_t b) {
             exchange(stream, buf, http::verb::post, "/v1/events:batch",
                      "application/x-ndjson", batches[b], res);
             if (res.result_int() != 200) {
               fail("POST /v1/events:batch answered " + std::to_string(res.result_int()) +
                    ": " + res.body());
               return false;
             }
             if (res.body().find("\"rejected\":0") == std::string::npos) {
               fail("POST /v1/events:batch rejected events: " + res.body().substr(0, 400));
               return false;
             }
             auto p = res.body().find("\"accepted\":");
             if (p != std::string::npos)
               accepted += std::strtoull(res.body().c_str() + p + 11, nullptr, 10);
             return true;
           });
  if (failed) {
    std::fprintf(stderr, "hotlead-bench: setup failed: %s\n", error.c_str());
    return false;
  }
  std::fprintf(stderr, "setup: recorded %" PRIu64 " events in %.2f s\n", accepted.load(),
               std::chrono::duration<double>(clock_type::now() - t1).count());
  return true;
}

} // namespace hotlead::bench
