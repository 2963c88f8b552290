// hotlead-bench's load: the bytes each scenario sends (request_factory,
// serialized once per request into a reused string, the bytes Beast's
// serializer would produce) and the keep-alive connection that sends them,
// one request in flight at a time, closed loop or on its fixed-rate schedule,
// reading replies with parse_reply_head (loadgen_response.hpp), recording those that complete inside the
// measured window into its worker's stats and reconnecting after a socket
// error or a server close. Threading: each worker owns one io_context, run by
// one thread; a connection and its worker's thread_stats are only touched on
// that thread. The options, request_factory and run_clock are shared
// read-only; `stopping` is the one cross-thread flag (set by main).
#pragma once

#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <queue>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"
#include "loadgen_histogram.hpp"
#include "loadgen_options.hpp"
#include "loadgen_response.hpp"

namespace hotlead::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// -- request bytes ------------------------------------------------------------------

/// The body of POST /v1/leads/{id}/events: an event of a random type with its
/// properties (hotlead-wsfanout's writer sends the same).
inline std::string event_body(rng& r) {
  auto type = pick_event_type(r);
  std::string body = "{\"type\":\"";
  body += type;
  body += "\",\"properties\":";
  body += event_properties(r, type);
  body += '}';
  return body;
}

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

  void post(std::string& out, std::string_view path, std::string_view body) const {
    out += "POST ";
    out += path;
    out += " HTTP/1.1\r\n";
    out += host_header;
    out += auth_header;
    out += "Content-Type: application/json\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    out += body;
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
    std::string path = "/v1/leads/";
    path += ids[r.below(ids.size())];
    path += "/events";
    post(out, path, event_body(r));
  }

  /// POST /v1/score: a lead payload (title, company, 2 attributes) with
  /// 3 events of varied types, as another service would send inline.
  void score_stateless(std::string& out, rng& r) const {
    std::string body = "{\"lead\":{\"title\":\"";
    body += titles[r.below(titles.size())];
    body += "\",\"company\":\"Acme ";
    body += std::to_string(r.below(1000));
    body += "\",\"source\":\"referral\",\"attributes\":{\"employees\":";
    body += std::to_string(r.below(5000));
    body += ",\"trial\":true}},\"events\":[";
    for (int i = 0; i < 3; ++i) {
      auto type = pick_event_type(r);
      body += i ? ",{\"type\":\"" : "{\"type\":\"";
      body += type;
      body += "\"}";
    }
    body += "]}";
    post(out, "/v1/score", body);
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
    case scenario::score_stateless:
      score_stateless(out, r);
      return true;
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

// -- the connections ------------------------------------------------------------------

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

/// Fixed-rate sends of one worker's connections, paced by one timer: a
/// timer per connection reprogrammed the kernel's timerfd on nearly every
/// request (36% of the load generator's CPU at 110k req/s on a VM). The
/// timer fires at most every `min_gap`, sending every connection that is due;
/// a send may leave up to min_gap late, and the lateness is charged to the
/// server (latency counts from the scheduled time), never hidden.
struct pacer {
  static constexpr auto min_gap = std::chrono::microseconds{100};
  struct due {
    clock_type::time_point at;
    std::function<void(clock_type::time_point)> send;
    bool operator>(const due& o) const {
      return at > o.at;
    }
  };

  explicit pacer(asio::io_context& ioc) : timer(ioc) {}

  void add(clock_type::time_point at, std::function<void(clock_type::time_point)> send) {
    queue.push({at, std::move(send)});
    // Re-arm only for a send due more than min_gap before the armed time.
    if (!armed || at + min_gap < armed_at)
      arm(std::max(at, last_fire + min_gap));
  }

private:
  void arm(clock_type::time_point at) {
    armed = true;
    armed_at = at;
    timer.expires_at(at);
    timer.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      armed = false;
      fire();
    });
  }

  void fire() {
    auto now = clock_type::now();
    last_fire = now;
    while (!queue.empty() && queue.top().at <= now) {
      auto d = queue.top(); // the send may add() to the queue
      queue.pop();
      d.send(d.at);
    }
    if (!queue.empty() && !armed)
      arm(std::max(queue.top().at, now + min_gap));
  }

  asio::steady_timer timer;
  std::priority_queue<due, std::vector<due>, std::greater<>> queue;
  bool armed = false;
  clock_type::time_point armed_at, last_fire;
};

struct worker {
  asio::io_context ioc{1};
  thread_stats stats;
  std::atomic<bool>* stopping;
  pacer pace{ioc};
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
    w_.pace.add(at, [self = shared_from_this()](clock_type::time_point t) { self->send(t); });
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
    // Reply bytes accumulate in in_[0, have_); a reply is consumed from the
    // front and what follows it (none without pipelining) is kept.
    if (auto r = parse_reply_head(std::string_view{in_.data(), have_}, head_);
        r == head_result::complete) {
      if (have_ >= head_.head_bytes + head_.body_bytes)
        return on_reply();
    } else if (r == head_result::malformed) {
      return socket_error("parse", asio::error::invalid_argument, false);
    }
    if (in_.size() - have_ < 4096)
      in_.resize(std::max(in_.size() * 2, have_ + 4096));
    sock_.async_read_some(asio::buffer(in_.data() + have_, in_.size() - have_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec)
                              return self->socket_error("read", ec, false);
                            self->have_ += n;
                            self->read();
                          });
  }

  void on_reply() {
    auto now = clock_type::now();
    unsigned status = head_.status;
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
          s.first_bad_body =
            std::to_string(status) + " " +
            std::string{in_.data() + head_.head_bytes, std::min<size_t>(head_.body_bytes, 300)};
      }
    }
    auto used = head_.head_bytes + head_.body_bytes;
    std::copy(in_.begin() + static_cast<std::ptrdiff_t>(used),
              in_.begin() + static_cast<std::ptrdiff_t>(have_), in_.begin());
    have_ -= used;
    if (head_.close) {
      // The server closed the connection after this reply: reconnect.
      beast::error_code ignored;
      sock_.shutdown(tcp::socket::shutdown_both, ignored);
      sock_.close(ignored);
      have_ = 0;
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
    have_ = 0;
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
  std::vector<char> in_ = std::vector<char>(8192);
  size_t have_ = 0;
  reply_head head_;
  std::string req_;
  bool is_read_ = true;
  clock_type::time_point intended_;
  std::chrono::duration<double> interval_{0};
  clock_type::time_point next_at_;
};

} // namespace hotlead::bench
