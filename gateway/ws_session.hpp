// WebSocket subscriptions (GET /v1/stream, issue 4). One ws_session per
// connection, on the io thread that accepted it; the io thread's
// stream_registry hands it the change feed's messages of its org (the hub
// posts each published batch once per io thread). Client messages are JSON
// ops (subscribe / unsubscribe a topic, optionally resuming after a seq);
// the server sends each matching feed message once, in seq order, through
// a bounded queue: a client that does not read is closed (1008, "slow
// consumer"), it never holds up writers or other clients. Keep-alive pings
// and the handshake timeout are Beast's (stream_base::timeout::suggested).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/auth.hpp"
#include "gateway/http_types.hpp"
#include "protocol/feed.hpp"

namespace hotlead {

struct edge_env;
class ws_session;
struct stream_op;

/// The WebSocket sessions of one io thread, by org, indexed by what their
/// topics can match, so a message reaches only the sessions that may want
/// it (a thousand sessions on one lead each cost a lookup, not a thousand
/// calls); io thread only.
class stream_registry {
public:
  void add(uint64_t org); // a session of the org, with no topic yet
  /// `leads`: the session's lead topics (it leaves every index).
  void remove(ws_session* s, uint64_t org, const std::unordered_set<uint64_t>& leads);
  /// `broad`: a topic of the session may match any message of the org
  /// ("leads", "jobs", a threshold).
  void set_broad(ws_session* s, uint64_t org, bool broad);
  void watch(ws_session* s, uint64_t org, uint64_t lead);
  void unwatch(ws_session* s, uint64_t org, uint64_t lead);
  /// The last seq of the org offered to its sessions: each session whose
  /// topics matched a message up to it has had it.
  uint64_t dispatched(uint64_t org) const;
  /// Hands a published batch to the sessions each message may concern.
  void dispatch(const std::vector<feed_message>& batch);
  /// The sessions registered (any thread: the hub's listener reads it).
  size_t live() const {
    return live_.load(std::memory_order_relaxed);
  }

private:
  struct org_sessions {
    size_t sessions = 0;
    uint64_t dispatched = 0;
    std::vector<ws_session*> broad;
    std::unordered_map<uint64_t, std::vector<ws_session*>> by_lead;
  };
  std::unordered_map<uint64_t, org_sessions> by_org_;
  std::atomic<size_t> live_{0};
};

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  using executor = boost::asio::io_context::executor_type;
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor>;

  ws_session(socket_type&& socket, edge_env& env, stream_registry& reg, principal who);
  ~ws_session();

  /// Completes the handshake of the request whose header fields are given.
  void accept(const http_request& r, boost::beast::flat_buffer&& leftover);

  /// A feed message of this session's org (io thread).
  void deliver(const feed_message& m);

private:
  // One "threshold" topic: its rule and which leads are hot in its view
  // (protocol/feed.hpp threshold_step).
  struct threshold_view {
    threshold_rule rule;
    std::unordered_set<uint64_t> hot;
  };
  struct subscription {
    bool all = false;                    // topic "leads"
    bool jobs = false;                   // topic "jobs"
    std::unordered_set<uint64_t> leads;  // topics "lead:<id>"
    std::vector<threshold_view> thresholds; // topics "threshold", one per score
  };
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void handle(std::string_view text);
  void subscribe(const stream_op& op);
  void unsubscribe(const stream_op& op);
  void drop_threshold(int64_t score);
  void catch_up();
  void index_topics(const stream_op& op);
  bool matches(const feed_message& m) const;
  void emit(const feed_message& m);
  void step(threshold_view& t, const feed_message& m);
  void send(std::shared_ptr<const std::string> text);
  void do_write();
  void fail(std::string detail);
  void close(unsigned short code, std::string reason);

  boost::beast::websocket::stream<socket_type> ws_;
  edge_env& env_;
  stream_registry& reg_;
  principal who_;
  boost::beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> out_;
  bool writing_ = false;
  bool closing_ = false;
  bool registered_ = false;
  subscription subs_;
  uint64_t last_seq_ = 0; // the last feed message sent
  bool replaying_ = false;   // subscribe() is queueing a resume's replay
  size_t replay_credit_ = 0; // replayed messages still queued: on top of the bound
};

} // namespace hotlead
