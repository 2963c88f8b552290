// hotlead-wsfanout's writer: POST /v1/leads/{id}/events over keep-alive
// Beast HTTP connections, paced to a rate or as fast as the connections
// allow, with at most one write in flight per lead. That rule is what lets a
// subscriber time what it receives: the k-th message about lead L is the
// k-th acknowledged write to L, whose send time the writer put in the
// send_log. Threading: an http_writer and its connections live on one
// io_context run by one thread (the writer's); main posts run() there and
// gets the result through the `done` callback, on that thread. The send_log
// is written by the writer's thread and read by the subscribers' thread, so
// its slots are atomics. completed() may be read from any thread.
#pragma once

#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loadgen_client.hpp" // the namespace aliases, clock_type, event_body

namespace hotlead::bench {

inline int64_t to_ns(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

/// When the writes of a timed phase were sent: slot [lead][k] holds the send
/// time (steady_clock ns) of the k-th acknowledged write to the lead since
/// the phase began, 0 when it was not logged (sent during the warm-up, or
/// past `per_lead` writes to that lead).
class send_log {
public:
  send_log(size_t leads, size_t per_lead)
    : per_lead_(per_lead), slots_(new std::atomic<int64_t>[leads * per_lead]()) {}

  void put(size_t lead, uint64_t k, int64_t ns) {
    if (k < per_lead_)
      slots_[lead * per_lead_ + k].store(ns, std::memory_order_relaxed);
  }
  int64_t get(size_t lead, uint64_t k) const {
    return k < per_lead_ ? slots_[lead * per_lead_ + k].load(std::memory_order_relaxed) : 0;
  }

private:
  size_t per_lead_;
  std::unique_ptr<std::atomic<int64_t>[]> slots_;
};

struct write_phase {
  double rate = 0;     // writes/s; 0: as fast as the connections allow
  double warmup = 0;   // s before the measured window
  double duration = 0; // s of measured window; 0: until `limit` writes
  uint64_t limit = 0;  // writes in all; 0: no limit
  bool log_sends = false;
};

struct write_result {
  uint64_t sent = 0, ok = 0, non2xx = 0, socket_errors = 0;
  uint64_t ok_in_window = 0; // acknowledged inside the measured window
  histogram latency;         // ns from send to answer, inside the window
  double seconds = 0;        // the phase from its start to its last answer
  std::string first_error;
};

class http_writer;

/// One keep-alive connection; one request in flight at a time.
class http_conn : public std::enable_shared_from_this<http_conn> {
public:
  http_conn(http_writer& w, asio::io_context& ioc, uint64_t phase) : w_(w), stream_(ioc), phase_(phase) {}

  void connect(const tcp::endpoint& ep);
  void send(size_t lead, std::string target, std::string body, const std::string& host,
            const std::string& auth);
  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  uint64_t phase() const {
    return phase_;
  }
  size_t lead = 0;
  clock_type::time_point sent_at;

private:
  void on_write(beast::error_code ec, std::size_t);
  void on_read(beast::error_code ec, std::size_t);

  http_writer& w_; // outlives every connection: destroyed after the writer's thread is joined
  beast::tcp_stream stream_;
  uint64_t phase_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

class http_writer {
public:
  /// How far a paced writer may fall behind and still send what it missed.
  static constexpr auto max_lag = std::chrono::milliseconds{10};

  struct config {
    tcp::endpoint ep;
    std::string host; // Host header: "127.0.0.1:8080"
    std::string key;
    size_t connections = 64;
  };

  http_writer(asio::io_context& ioc, config cfg, std::vector<std::string> ids, send_log* log)
    : ioc_(ioc), cfg_(std::move(cfg)), ids_(std::move(ids)), log_(log),
      auth_("Bearer " + cfg_.key), ok_per_lead_(ids_.size(), 0), pace_timer_(ioc),
      end_timer_(ioc) {}

  /// Starts a phase on fresh connections (writer thread; no phase running).
  void run(write_phase p, std::function<void(write_result)> done) {
    p_ = p;
    done_ = std::move(done);
    res_ = {};
    ++phase_;
    running_ = true;
    stopping_ = false;
    start_ = clock_type::now();
    window_from_ = start_ + secs(p.warmup);
    window_to_ = p.duration > 0 ? window_from_ + secs(p.duration) : clock_type::time_point::max();
    next_due_ = start_;
    interval_ = p.rate > 0 ? secs(1.0 / p.rate) : clock_type::duration{0};
    base_ = ok_per_lead_;
    idle_leads_.clear();
    for (size_t i = 0; i < ids_.size(); ++i)
      idle_leads_.push_back(i);
    for (size_t i = 0; i < cfg_.connections; ++i) {
      conns_.push_back(std::make_shared<http_conn>(*this, ioc_, phase_));
      conns_.back()->connect(cfg_.ep);
    }
    if (p.duration > 0) {
      end_timer_.expires_at(window_to_);
      end_timer_.async_wait([this](beast::error_code ec) {
        if (!ec)
          pump();
      });
    }
  }

  /// Acknowledged writes so far, over all phases (any thread).
  uint64_t completed() const {
    return completed_.load(std::memory_order_relaxed);
  }
  /// Acknowledged writes per lead (writer thread; or main between phases,
  /// once the phase's result arrived, or once the thread is joined).
  const std::vector<uint64_t>& ok_per_lead() const {
    return ok_per_lead_;
  }

  // -- called by the connections ------------------------------------------------------

  void on_connected(http_conn& c) {
    if (c.phase() != phase_ || !running_)
      return;
    idle_conns_.push_back(&c);
    pump();
  }

  /// An answer; `keep_alive` false when the server closes the connection after it.
  void on_reply(http_conn& c, unsigned status, const std::string& body, bool keep_alive) {
    if (c.phase() != phase_ || !running_)
      return;
    auto now = clock_type::now();
    --inflight_;
    if (status >= 200 && status < 300) {
      ++res_.ok;
      ++ok_per_lead_[c.lead];
      completed_.fetch_add(1, std::memory_order_relaxed);
      if (now >= window_from_ && now < window_to_) {
        ++res_.ok_in_window;
        res_.latency.record(static_cast<uint64_t>(to_ns(now) - to_ns(c.sent_at)));
      }
    } else {
      ++res_.non2xx;
      unlog(c.lead);
      if (res_.first_error.empty())
        res_.first_error = std::to_string(status) + " " + body.substr(0, 300);
    }
    idle_leads_.push_back(c.lead);
    if (keep_alive) {
      idle_conns_.push_back(&c);
    } else {
      c.close();
      if (!stopping_)
        c.connect(cfg_.ep);
    }
    pump();
  }

  /// A connection failed; `busy`: with a write in flight, whose fate is unknown.
  void on_socket_error(http_conn& c, bool busy, const char* what, beast::error_code ec) {
    if (c.phase() != phase_ || !running_)
      return;
    ++res_.socket_errors;
    if (res_.first_error.empty())
      res_.first_error = std::string{what} + ": " + ec.message();
    if (busy) {
      --inflight_;
      unlog(c.lead);
      idle_leads_.push_back(c.lead);
    }
    c.close();
    if (stopping_)
      return pump();
    // Reconnect a little later, so a refused connection does not spin.
    auto t = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds{100});
    t->async_wait([this, t, self = c.shared_from_this()](beast::error_code) {
      if (self->phase() == phase_ && running_ && !stopping_)
        self->connect(cfg_.ep);
    });
    pump();
  }

private:
  static clock_type::duration secs(double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  }

  // Sends what is due on the idle connections; ends the phase when it is over.
  void pump() {
    if (!running_)
      return;
    auto now = clock_type::now();
    if (now >= window_to_ || (p_.limit && res_.sent >= p_.limit))
      stopping_ = true;
    while (!stopping_ && !idle_conns_.empty() && !idle_leads_.empty()) {
      if (p_.rate > 0) {
        if (next_due_ > now) {
          arm_pace();
          break;
        }
        // Behind schedule (no idle connection or lead when due): the missed
        // writes are dropped, not sent in a burst, so the achieved rate
        // never exceeds the target and shows the shortfall.
        next_due_ = std::max(next_due_, now - max_lag) + interval_;
      }
      auto* c = idle_conns_.back();
      idle_conns_.pop_back();
      c->lead = idle_leads_.front();
      idle_leads_.pop_front();
      send(*c, now);
      if (p_.limit && res_.sent >= p_.limit)
        stopping_ = true;
    }
    if (stopping_ && inflight_ == 0)
      finish();
  }

  void send(http_conn& c, clock_type::time_point now) {
    c.sent_at = now;
    ++res_.sent;
    ++inflight_;
    if (p_.log_sends && now >= window_from_)
      log_->put(c.lead, ok_per_lead_[c.lead] - base_[c.lead], to_ns(now));
    c.send(c.lead, "/v1/leads/" + ids_[c.lead] + "/events", event_body(rng_), cfg_.host, auth_);
  }

  // A write that was not acknowledged sent no message: its slot is free again.
  void unlog(size_t lead) {
    if (p_.log_sends)
      log_->put(lead, ok_per_lead_[lead] - base_[lead], 0);
  }

  void arm_pace() {
    if (pace_armed_)
      return; // armed for an earlier time: due times only move forward
    pace_armed_ = true;
    pace_timer_.expires_at(next_due_);
    pace_timer_.async_wait([this](beast::error_code) {
      pace_armed_ = false;
      pump();
    });
  }

  void finish() {
    running_ = false;
    res_.seconds = std::chrono::duration<double>(clock_type::now() - start_).count();
    end_timer_.cancel();
    for (auto& c : conns_)
      c->close();
    conns_.clear();
    idle_conns_.clear();
    auto done = std::move(done_);
    done(std::move(res_));
  }

  asio::io_context& ioc_;
  config cfg_;
  std::vector<std::string> ids_;
  send_log* log_;
  std::string auth_;
  rng rng_{0x77a11e5ULL};
  std::vector<uint64_t> ok_per_lead_, base_;
  std::atomic<uint64_t> completed_{0};

  write_phase p_;
  std::function<void(write_result)> done_;
  write_result res_;
  uint64_t phase_ = 0;
  bool running_ = false, stopping_ = false, pace_armed_ = false;
  size_t inflight_ = 0;
  std::vector<std::shared_ptr<http_conn>> conns_;
  std::vector<http_conn*> idle_conns_;
  std::deque<size_t> idle_leads_;
  clock_type::time_point start_, window_from_, window_to_, next_due_;
  clock_type::duration interval_{0};
  asio::steady_timer pace_timer_, end_timer_;
};

// -- http_conn --------------------------------------------------------------------------

inline void http_conn::connect(const tcp::endpoint& ep) {
  stream_.expires_after(std::chrono::seconds{10});
  stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return self->w_.on_socket_error(*self, false, "connect", ec);
    self->stream_.socket().set_option(tcp::no_delay{true});
    self->w_.on_connected(*self);
  });
}

inline void http_conn::send(size_t lead_index, std::string target, std::string body,
                            const std::string& host, const std::string& auth) {
  lead = lead_index;
  req_ = {http::verb::post, target, 11};
  req_.set(http::field::host, host);
  req_.set(http::field::authorization, auth);
  req_.set(http::field::content_type, "application/json");
  req_.keep_alive(true);
  req_.body() = std::move(body);
  req_.prepare_payload();
  // A write the server keeps for longer than this is a failure, not a wait.
  stream_.expires_after(std::chrono::seconds{10});
  http::async_write(stream_, req_, beast::bind_front_handler(&http_conn::on_write, shared_from_this()));
}

inline void http_conn::on_write(beast::error_code ec, std::size_t) {
  if (ec)
    return w_.on_socket_error(*this, true, "write", ec);
  res_ = {};
  http::async_read(stream_, buf_, res_, beast::bind_front_handler(&http_conn::on_read, shared_from_this()));
}

inline void http_conn::on_read(beast::error_code ec, std::size_t) {
  if (ec)
    return w_.on_socket_error(*this, true, "read", ec);
  stream_.expires_never();
  w_.on_reply(*this, res_.result_int(), res_.body(), res_.keep_alive());
}

} // namespace hotlead::bench
