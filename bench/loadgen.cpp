// hotlead-bench: an HTTP/1.1 load generator in the spirit of wrk2 and
// redis-benchmark, with Boost.Beast.
//
// N keep-alive connections are spread over T threads, each thread running
// its own io_context. Every connection has one request in flight at a time.
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
// separately and the connection reconnects.
// Latencies go into a log-linear histogram (HdrHistogram style: 128 linear
// sub-buckets per power of two, < 0.8% relative error); a percentile is
// reported as the highest value of its bucket.
//
// Requests are serialized once per request into a reused string (the bytes
// Beast's serializer would produce); replies are parsed by Beast.
#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace hotlead::bench;

namespace {

// -- options -----------------------------------------------------------------------

enum class scenario { get_lead, post_event, mixed, url };

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
};

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
  --json              print one JSON line of results instead of a table
)";

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
      else if (a == "--duration") {
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

const char* scenario_name(scenario s) {
  switch (s) {
  case scenario::get_lead:
    return "get-lead";
  case scenario::post_event:
    return "post-event";
  case scenario::mixed:
    return "mixed";
  case scenario::url:
    return "url";
  }
  return "?";
}

// -- histogram ----------------------------------------------------------------------

class histogram {
public:
  static constexpr unsigned sub_bits = 7;
  static constexpr uint64_t sub = 1ull << sub_bits;

  histogram() : counts_((64 - sub_bits + 1) * sub, 0) {}

  void record(uint64_t v) {
    ++counts_[index(v)];
    ++total_;
    sum_ += static_cast<double>(v);
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }

  void merge(const histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
  }

  uint64_t total() const {
    return total_;
  }
  uint64_t max() const {
    return total_ ? max_ : 0;
  }
  double mean() const {
    return total_ ? sum_ / static_cast<double>(total_) : 0;
  }

  /// The value at quantile q (0..1): the highest value of its bucket.
  uint64_t quantile(double q) const {
    if (!total_)
      return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return std::min(highest(i), max_);
    }
    return max_;
  }

private:
  static size_t index(uint64_t v) {
    if (v < sub)
      return static_cast<size_t>(v);
    unsigned m = 63u - static_cast<unsigned>(__builtin_clzll(v)); // m >= sub_bits
    uint64_t mant = v >> (m - sub_bits);                             // in [sub, 2*sub)
    return static_cast<size_t>(m - sub_bits + 1) * sub + static_cast<size_t>(mant - sub);
  }
  static uint64_t highest(size_t i) {
    if (i < sub)
      return i;
    uint64_t octave = i / sub; // >= 1
    unsigned m = static_cast<unsigned>(octave + sub_bits - 1);
    uint64_t mant = (i % sub) + sub;
    unsigned shift = m - sub_bits;
    return (mant << shift) + ((1ull << shift) - 1);
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

// -- request bytes ------------------------------------------------------------------

struct request_factory {
  const options& o;
  const std::vector<std::string>& ids;
  std::string host_header;
  std::string auth_header;

  request_factory(const options& opts, const std::vector<std::string>& lead_ids)
    : o(opts), ids(lead_ids) {
    host_header = "Host: " + o.host + ":" + std::to_string(o.port) + "\r\n";
    if (!o.key.empty())
      auth_header = "Authorization: Bearer " + o.key + "\r\n";
  }

  void get(std::string& out, std::string_view path) const {
    out += "GET ";
    out += path;
    out += " HTTP/1.1\r\n";
    out += host_header;
    out += auth_header;
    out += "\r\n";
  }

  void get_lead(std::string& out, rng& r) const {
    out += "GET /v1/leads/";
    out += ids[r.below(ids.size())];
    out += " HTTP/1.1\r\n";
    out += host_header;
    out += auth_header;
    out += "\r\n";
  }

  void post_event(std::string& out, rng& r) const {
    auto type = pick_event_type(r);
    std::string body = "{\"type\":\"";
    body += type;
    body += "\",\"properties\":";
    body += event_properties(r, type);
    body += '}';
    out += "POST /v1/leads/";
    out += ids[r.below(ids.size())];
    out += "/events HTTP/1.1\r\n";
    out += host_header;
    out += auth_header;
    out += "Content-Type: application/json\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    out += body;
  }

  /// Fills `out` with the next request; returns true for a read.
  bool next(std::string& out, rng& r) const {
    out.clear();
    switch (o.sc) {
    case scenario::url:
      get(out, o.url);
      return true;
    case scenario::get_lead:
      get_lead(out, r);
      return true;
    case scenario::post_event:
      post_event(out, r);
      return false;
    case scenario::mixed:
      if (static_cast<double>(r.below(1'000'000)) < o.mixed_get * 1e6) {
        get_lead(out, r);
        return true;
      }
      post_event(out, r);
      return false;
    }
    return true;
  }
};

// -- the run --------------------------------------------------------------------------

struct thread_stats {
  histogram lat; // nanoseconds
  uint64_t ok = 0, non2xx = 0, socket_errors = 0, reconnects = 0;
  uint64_t reads = 0, writes = 0;
  std::array<uint64_t, 600> statuses{};
  std::string first_error;
  std::string first_bad_body;
};

struct run_clock {
  clock_type::time_point start, measure_from, measure_to;
  bool in_window(clock_type::time_point t) const {
    return t >= measure_from && t < measure_to;
  }
};

struct worker {
  asio::io_context ioc{1};
  thread_stats stats;
  std::atomic<bool>* stopping;
};

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(worker& w, const options& o, const request_factory& f, const run_clock& rc,
             tcp::endpoint ep, size_t index)
    : w_(w), o_(o), f_(f), rc_(rc), ep_(ep), sock_(w.ioc), timer_(w.ioc),
      rng_(0x5eedULL + index * 7919) {
    if (o.rate > 0) {
      interval_ = std::chrono::duration<double>(static_cast<double>(o.connections) / o.rate);
      // Stagger the connections' phases over one interval.
      auto phase = interval_ * (static_cast<double>(index) / static_cast<double>(o.connections));
      next_at_ = rc.start + std::chrono::duration_cast<clock_type::duration>(phase);
    }
  }

  void start() {
    connect();
  }

private:
  bool stopping() const {
    return w_.stopping->load(std::memory_order_relaxed);
  }

  void connect() {
    if (stopping())
      return;
    sock_.async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return self->socket_error("connect", ec, true);
      self->sock_.set_option(tcp::no_delay{true});
      self->schedule();
    });
  }

  void schedule() {
    if (stopping())
      return;
    if (o_.rate <= 0)
      return send(clock_type::now());
    auto at = next_at_;
    next_at_ += std::chrono::duration_cast<clock_type::duration>(interval_);
    if (clock_type::now() >= at)
      return send(at);
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), at](beast::error_code ec) {
      if (!ec)
        self->send(at);
    });
  }

  void send(clock_type::time_point intended) {
    if (stopping())
      return;
    intended_ = intended;
    is_read_ = f_.next(req_, rng_);
    asio::async_write(sock_, asio::buffer(req_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec)
                          return self->socket_error("write", ec, false);
                        self->read();
                      });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(64 << 20);
    http::async_read(sock_, buf_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_reply(ec);
    });
  }

  void on_reply(beast::error_code ec) {
    if (ec)
      return socket_error("read", ec, false);
    auto now = clock_type::now();
    auto& res = parser_->get();
    unsigned status = res.result_int();
    if (rc_.in_window(now)) {
      auto& s = w_.stats;
      ++s.statuses[std::min(status, 599u)];
      if (status >= 200 && status < 300) {
        ++s.ok;
        ++(is_read_ ? s.reads : s.writes);
        s.lat.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - intended_).count()));
      } else {
        ++s.non2xx;
        if (s.first_bad_body.empty())
          s.first_bad_body = std::to_string(status) + " " + res.body().substr(0, 300);
      }
    }
    if (!res.keep_alive()) {
      // The server closed the connection after this reply: reconnect.
      beast::error_code ignored;
      sock_.shutdown(tcp::socket::shutdown_both, ignored);
      sock_.close(ignored);
      buf_.clear();
      ++w_.stats.reconnects;
      return connect();
    }
    schedule();
  }

  void socket_error(const char* what, beast::error_code ec, bool connecting) {
    if (stopping() || ec == asio::error::operation_aborted)
      return;
    auto& s = w_.stats;
    if (rc_.in_window(clock_type::now()) || connecting) {
      ++s.socket_errors;
      if (s.first_error.empty())
        s.first_error = std::string{what} + ": " + ec.message();
    }
    beast::error_code ignored;
    sock_.close(ignored);
    buf_.clear();
    ++s.reconnects;
    // Back off a little so a refused connection does not spin.
    timer_.expires_after(std::chrono::milliseconds{connecting ? 100 : 1});
    timer_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e)
        self->connect();
    });
  }

  worker& w_;
  const options& o_;
  const request_factory& f_;
  const run_clock& rc_;
  tcp::endpoint ep_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  rng rng_;
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string req_;
  bool is_read_ = true;
  clock_type::time_point intended_;
  std::chrono::duration<double> interval_{0};
  clock_type::time_point next_at_;
};

// -- setup: create leads (and events) through the API ---------------------------------

std::string extract_id(const std::string& body) {
  auto p = body.find("\"id\":\"");
  if (p == std::string::npos || p + 6 + 16 > body.size())
    return {};
  return body.substr(p + 6, 16);
}

int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool setup_leads(const options& o, tcp::endpoint ep, std::vector<std::string>& ids) {
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

  // Phase 1: the leads.
  auto create = [&] {
    try {
      asio::io_context ioc;
      beast::tcp_stream stream{ioc};
      stream.connect(ep);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      for (size_t i; !failed && (i = next.fetch_add(1)) < n;) {
        auto l = make_sample(seed, i, 0, now);
        exchange(stream, buf, http::verb::post, "/v1/leads", "application/json",
                 create_body(l), res);
        if (res.result_int() != 201)
          return fail("POST /v1/leads answered " + std::to_string(res.result_int()) + ": " +
                      res.body());
        ids[i] = extract_id(res.body());
        if (ids[i].size() != 16)
          return fail("POST /v1/leads answered no id: " + res.body());
      }
    } catch (const std::exception& e) {
      fail(std::string{"setup: "} + e.what());
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::min(o.setup_connections, n); ++t)
    pool.emplace_back(create);
  for (auto& t : pool)
    t.join();
  pool.clear();
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
  next = 0;
  std::atomic<uint64_t> accepted{0};
  auto post = [&] {
    try {
      asio::io_context ioc;
      beast::tcp_stream stream{ioc};
      stream.connect(ep);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      for (size_t b; !failed && (b = next.fetch_add(1)) < batches.size();) {
        exchange(stream, buf, http::verb::post, "/v1/events:batch", "application/x-ndjson",
                 batches[b], res);
        if (res.result_int() != 200)
          return fail("POST /v1/events:batch answered " + std::to_string(res.result_int()) +
                      ": " + res.body());
        if (res.body().find("\"rejected\":0") == std::string::npos)
          return fail("POST /v1/events:batch rejected events: " + res.body().substr(0, 400));
        auto p = res.body().find("\"accepted\":");
        if (p != std::string::npos)
          accepted += std::strtoull(res.body().c_str() + p + 11, nullptr, 10);
      }
    } catch (const std::exception& e) {
      fail(std::string{"setup events: "} + e.what());
    }
  };
  for (size_t t = 0; t < std::min<size_t>(4, batches.size()); ++t)
    pool.emplace_back(post);
  for (auto& t : pool)
    t.join();
  if (failed) {
    std::fprintf(stderr, "hotlead-bench: setup failed: %s\n", error.c_str());
    return false;
  }
  std::fprintf(stderr, "setup: recorded %" PRIu64 " events in %.2f s\n", accepted.load(),
               std::chrono::duration<double>(clock_type::now() - t1).count());
  return true;
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
  if (o.sc != scenario::url && ids.empty()) {
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
  std::this_thread::sleep_until(rc.measure_to);
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
                "\"max_us\":%.1f,\"mean_us\":%.1f,\"statuses\":{%s}}\n",
                scenario_name(o.sc), o.connections, o.threads, o.rate, secs, requests, all.ok,
                all.reads, all.writes, all.non2xx, all.socket_errors, all.reconnects, tput, p50,
                p99, p999, mx, mean, statuses.c_str());
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
    std::printf("  statuses    ");
    for (unsigned k = 0; k < all.statuses.size(); ++k)
      if (all.statuses[k])
        std::printf(" %u:%" PRIu64, k, all.statuses[k]);
    std::printf("\n");
  }
  return 0;
}
