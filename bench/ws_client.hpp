// hotlead-wsfanout's subscribers: Beast WebSocket clients of GET /v1/stream
// that subscribe to "leads" (optionally resuming after a seq), or to
// "lead:<id>" of each lead they watch (one op, one ack per topic), and check
// every message as it arrives: seqs strictly increasing (with no gap on
// "leads", which carries every message of the org), every message about a
// lead of this run that the subscriber watches, each one counted per lead. A message
// about lead L is matched with the write that caused it through the
// writer's send_log (ws_writer.hpp) to time its delivery. Threading: every
// subscriber, the subscriber_set and the fanout_env live on one io_context
// run by one thread; main reads them through run_on() (ws_fanout.cpp) or
// once that thread is joined. A connection that ended is replaced, never
// reused, so a late handler of the old one only finds it is not current.
#pragma once

#include <utility> // before Boost 1.74 asio (awaitable.hpp needs std::exchange)

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "loadgen_histogram.hpp"
#include "ws_message.hpp"
#include "ws_writer.hpp"

namespace hotlead::bench {

namespace websocket = beast::websocket;

class subscriber_set;

/// What every subscriber shares (subscriber thread).
struct fanout_env {
  tcp::endpoint ep;
  std::string host; // Host header
  std::string key;
  std::vector<std::string> ids;                      // the writer's leads, by index
  std::unordered_map<uint64_t, uint32_t> lead_index; // lead id -> the writer's index
  bool per_lead_topics = false; // "lead:<id>" topics instead of "leads"
  size_t watchers = 1;          // per-lead topics: subscribers watching each lead
  const send_log* log = nullptr;
  histogram latency;            // ns from a write's send to a subscriber's receipt
  std::atomic<uint64_t> receipts{0}; // feed messages received by all (read by main)
};

class subscriber : public std::enable_shared_from_this<subscriber> {
public:
  // connecting: TCP and handshake; subscribing: waiting for the ack.
  enum class state { idle, connecting, subscribing, live, closing, closed, dropped };

  subscriber(asio::io_context& ioc, fanout_env& env, subscriber_set& set, size_t index)
    : index(index), per_lead(env.lead_index.size(), 0), ioc_(ioc), env_(env), set_(set) {}

  /// Connects and subscribes to "leads", or to each watched lead's topic.
  /// resume_from 0: live from now, a fresh start whose counts begin at 0,
  /// when the writer has acknowledged acked[l] writes to lead l (empty:
  /// none yet); the bench's drain waits for the rest.
  void open(uint64_t resume_from, const std::vector<uint64_t>& acked = {});
  /// A clean close (code 1000); set.on_end follows.
  void close();
  /// Adds lead `lead` (the writer's index) to those watched through its own
  /// topic; a subscriber that watches none subscribes to "leads".
  void watch(uint32_t lead) {
    watched.push_back(lead);
    watching.resize(per_lead.size());
    watching[lead] = true;
  }
  /// The writes in acked (per lead) that this subscriber's topics carry.
  uint64_t watched_writes(const std::vector<uint64_t>& acked) const {
    if (acked.empty())
      return 0;
    if (watched.empty())
      return std::accumulate(acked.begin(), acked.end(), uint64_t{0});
    uint64_t n = 0;
    for (auto l : watched)
      n += acked[l];
    return n;
  }
  state current() const {
    return state_;
  }

  // -- what the checks read --------------------------------------------------------------
  const size_t index;
  // Since the last fresh start (a resume goes on counting).
  uint64_t first_seq = 0, last_seq = 0, messages = 0;
  uint64_t writes_before = 0; // watched_writes() at the last fresh start
  uint64_t opens = 0;
  uint64_t replayed = 0; // messages of a resumed subscription before its ack
  uint64_t violations = 0;
  std::string first_violation;
  std::string end_reason; // why the server or the network ended it
  std::vector<uint32_t> per_lead;
  std::vector<uint32_t> watched; // empty: the whole feed ("leads")
  std::vector<bool> watching;    // by lead index, with per-lead topics

private:
  struct conn {
    explicit conn(asio::io_context& ioc) : ws(ioc) {}
    // A plain socket on the io_context's own executor: no per-operation timer
    // or type-erased executor as with beast::tcp_stream (the subscribers'
    // CPU per message shares the 2 cores with the server it measures). The
    // WebSocket layer's timeouts still apply; a loopback connect does not hang.
    websocket::stream<asio::basic_stream_socket<tcp, asio::io_context::executor_type>> ws;
    beast::flat_buffer buf;
    std::vector<std::string> ops; // one subscribe op per topic, sent in turn
    size_t acks = 0;
    bool reading = false, close_done = false;
    uint64_t before_ack = 0;
  };
  using conn_ptr = std::shared_ptr<conn>;

  void on_connect(conn_ptr c, beast::error_code ec);
  void on_handshake(conn_ptr c, beast::error_code ec);
  void do_subscribe(conn_ptr c, size_t op);
  void do_read(conn_ptr c);
  void on_read(conn_ptr c, beast::error_code ec, std::size_t n);
  void handle(conn& c, std::string_view text);
  void on_feed(const ws_message& m, std::string_view text);
  void violation(std::string what);
  void end(conn_ptr c, state s, std::string reason);

  asio::io_context& ioc_;
  fanout_env& env_;
  subscriber_set& set_;
  state state_ = state::idle;
  conn_ptr c_;
};

/// A resume drill (--check): subscriber `index` closes after `after`
/// messages and, once its close is done and the writer has acknowledged
/// `gap` more writes (or `total` in all), comes back with resume_from = the
/// last seq it saw. The writes acknowledged meanwhile can only reach it
/// through the server's replay.
struct resume_drill {
  size_t index = 0;
  uint64_t after = 0;
  std::function<uint64_t()> progress; // the writer's completed() (any thread)
  uint64_t gap = 0, total = 0;
  // What happened.
  bool closed = false, resumed = false;
  uint64_t closed_after_seq = 0, resumed_from = 0;
  uint64_t progress_at_close = 0, progress_at_resume = 0;
};

class subscriber_set {
public:
  subscriber_set(asio::io_context& ioc, fanout_env& env) : ioc_(ioc), env_(env), timer_(ioc) {}

  /// Opens n subscribers; `acked`: see subscriber::open. With per-lead
  /// topics lead j is watched by subscribers j, j+1, ..., j+W-1 (mod n), so
  /// every write reaches W of them, and with at least n leads every
  /// subscriber watches one or more.
  void open(size_t n, const std::vector<uint64_t>& acked) {
    for (size_t i = 0; i < n; ++i)
      subs.push_back(std::make_shared<subscriber>(ioc_, env_, *this, i));
    if (env_.per_lead_topics)
      for (uint32_t j = 0; j < env_.ids.size(); ++j)
        for (size_t w = 0; w < env_.watchers; ++w)
          subs[(j + w) % n]->watch(j);
    for (auto& s : subs)
      s->open(0, acked);
  }
  /// Subscribes the dropped and closed ones again, live from now.
  void reopen(const std::vector<uint64_t>& acked) {
    for (auto& s : subs)
      if (s->current() == subscriber::state::dropped || s->current() == subscriber::state::closed)
        s->open(0, acked);
  }
  void close_all() {
    for (auto& s : subs)
      s->close();
  }
  size_t count(subscriber::state st) const {
    size_t n = 0;
    for (auto& s : subs)
      n += s->current() == st;
    return n;
  }

  // -- called by the subscribers ------------------------------------------------------------
  void on_message(subscriber& s) {
    if (drill && !drill->closed && s.index == drill->index && s.messages >= drill->after) {
      drill->closed = true;
      s.close();
    }
  }
  void on_end(subscriber& s) {
    if (drill && drill->closed && !drill->resumed && s.index == drill->index &&
        s.current() == subscriber::state::closed) {
      drill->closed_after_seq = s.last_seq;
      drill->progress_at_close = drill->progress();
      wait_to_resume(s.shared_from_this());
    }
  }

  std::vector<std::shared_ptr<subscriber>> subs;
  std::optional<resume_drill> drill;

private:
  void wait_to_resume(std::shared_ptr<subscriber> s) {
    auto want = std::min(drill->total, drill->progress_at_close + drill->gap);
    if (auto now = drill->progress(); now >= want) {
      drill->resumed = true;
      drill->progress_at_resume = now;
      drill->resumed_from = s->last_seq;
      return s->open(s->last_seq);
    }
    timer_.expires_after(std::chrono::milliseconds{2});
    timer_.async_wait([this, s](beast::error_code ec) {
      if (!ec)
        wait_to_resume(s);
    });
  }

  asio::io_context& ioc_;
  fanout_env& env_;
  asio::steady_timer timer_;
};

// -- subscriber -------------------------------------------------------------------------------

inline void subscriber::open(uint64_t resume_from, const std::vector<uint64_t>& acked) {
  if (!resume_from) {
    first_seq = last_seq = messages = 0;
    std::fill(per_lead.begin(), per_lead.end(), 0);
    writes_before = watched_writes(acked);
  }
  auto c = std::make_shared<conn>(ioc_);
  c_ = c;
  state_ = state::connecting;
  ++opens;
  auto op = [&](const std::string& topic) {
    auto o = "{\"op\":\"subscribe\",\"topic\":\"" + topic + '"';
    if (resume_from)
      o += ",\"resume_from\":" + std::to_string(resume_from);
    c->ops.push_back(o + '}');
  };
  if (watched.empty())
    op("leads");
  for (auto l : watched)
    op("lead:" + env_.ids[l]);
  beast::get_lowest_layer(c->ws).async_connect(env_.ep, beast::bind_front_handler(&subscriber::on_connect,
                                                             shared_from_this(), c));
}

inline void subscriber::on_connect(conn_ptr c, beast::error_code ec) {
  if (c != c_)
    return;
  if (ec)
    return end(c, state::dropped, "connect: " + ec.message());
  c->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  c->ws.set_option(websocket::stream_base::decorator(
    [auth = "Bearer " + env_.key](websocket::request_type& req) {
      req.set(beast::http::field::authorization, auth);
    }));
  c->ws.async_handshake(env_.host, "/v1/stream", beast::bind_front_handler(
                                                   &subscriber::on_handshake, shared_from_this(), c));
}

inline void subscriber::on_handshake(conn_ptr c, beast::error_code ec) {
  if (c != c_)
    return;
  if (ec)
    return end(c, state::dropped, "handshake: " + ec.message());
  state_ = state::subscribing;
  c->ws.text(true);
  // The subscribe ops go out while the first read is pending.
  do_subscribe(c, 0);
  do_read(c);
}

// One op at a time: a WebSocket stream takes one write in flight.
inline void subscriber::do_subscribe(conn_ptr c, size_t op) {
  c->ws.async_write(asio::buffer(c->ops[op]), [self = shared_from_this(), c,
                                               op](beast::error_code e, std::size_t) {
    if (c != self->c_ || self->state_ != state::subscribing)
      return;
    if (e)
      return self->end(c, state::dropped, "subscribe: " + e.message());
    if (op + 1 < c->ops.size())
      self->do_subscribe(c, op + 1);
  });
}

inline void subscriber::do_read(conn_ptr c) {
  c->reading = true;
  c->ws.async_read(c->buf, beast::bind_front_handler(&subscriber::on_read, shared_from_this(), c));
}

inline void subscriber::on_read(conn_ptr c, beast::error_code ec, std::size_t) {
  c->reading = false;
  if (c != c_)
    return;
  if (ec) {
    if (state_ == state::closing)
      return end(c, state::closed, "");
    auto r = c->ws.reason();
    std::string why = ec.message();
    if (ec == websocket::error::closed)
      why = "closed by the server: " + std::to_string(r.code) + " " + std::string{r.reason.data(), r.reason.size()};
    return end(c, state::dropped, why);
  }
  auto data = c->buf.cdata();
  handle(*c, {static_cast<const char*>(data.data()), data.size()});
  c->buf.consume(c->buf.size());
  if (c == c_ && state_ != state::closed && state_ != state::dropped)
    do_read(c);
}

inline void subscriber::handle(conn& c, std::string_view text) {
  auto m = scan_message(text);
  bool acked = c.acks == c.ops.size();
  if (is_feed_type(m.type)) {
    if (!acked)
      ++c.before_ack;
    return on_feed(m, text);
  }
  if (m.type == "subscribed" && !acked) {
    if (++c.acks < c.ops.size())
      return;
    if (opens > 1)
      replayed += c.before_ack;
    if (state_ == state::subscribing)
      state_ = state::live;
    return;
  }
  violation("unexpected message: " + std::string{text.substr(0, 300)});
}

inline void subscriber::on_feed(const ws_message& m, std::string_view text) {
  if (!m.seq)
    return violation("a feed message without seq: " + std::string{text.substr(0, 300)});
  // "leads" carries every seq of the org; a lead's topic, that lead's alone.
  if (last_seq && (watched.empty() ? m.seq != last_seq + 1 : m.seq <= last_seq))
    violation("seq " + std::to_string(m.seq) + " after " + std::to_string(last_seq) +
              (m.seq <= last_seq ? " (a duplicate or out of order)" : " (a gap)"));
  if (!first_seq)
    first_seq = m.seq;
  last_seq = std::max(last_seq, m.seq);
  ++messages;
  env_.receipts.store(env_.receipts.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed); // one writer: this thread
  auto i = env_.lead_index.find(m.lead);
  if (i == env_.lead_index.end())
    return violation("a message about a lead this run did not create: " +
                     std::string{text.substr(0, 200)});
  if (!watched.empty() && !watching[i->second])
    return violation("a message about a lead it does not watch: " +
                     std::string{text.substr(0, 200)});
  if (m.type != "lead.updated")
    return violation("a " + std::string{m.type} + " message; only events were written");
  auto k = per_lead[i->second]++;
  if (env_.log)
    if (auto sent = env_.log->get(i->second, k))
      env_.latency.record(static_cast<uint64_t>(to_ns(clock_type::now()) - sent));
  set_.on_message(*this);
}

inline void subscriber::violation(std::string what) {
  if (!violations++)
    first_violation = "subscriber " + std::to_string(index) + ": " + what;
}

inline void subscriber::close() {
  if (!c_ || state_ == state::closing || state_ == state::closed || state_ == state::dropped)
    return;
  if (state_ == state::connecting) { // no WebSocket yet to close
    beast::error_code ignored;
    beast::get_lowest_layer(c_->ws).close(ignored);
    c_.reset(); // its pending handlers find it is not current
    state_ = state::closed;
    return set_.on_end(*this);
  }
  state_ = state::closing;
  auto c = c_;
  c->ws.async_close(websocket::close_code::normal, [self = shared_from_this(),
                                                      c](beast::error_code) {
    c->close_done = true;
    if (c == self->c_ && !c->reading && self->state_ == state::closing)
      self->end(c, state::closed, "");
  });
}

inline void subscriber::end(conn_ptr c, state s, std::string reason) {
  if (s == state::closed && !c->close_done)
    return; // the close handshake's own handler ends it
  state_ = s;
  if (s == state::dropped && end_reason.empty())
    end_reason = std::move(reason);
  beast::error_code ignored;
  beast::get_lowest_layer(c->ws).close(ignored);
  set_.on_end(*this);
}

} // namespace hotlead::bench
