// One HTTP/1.1 connection: read a request (header, then body, each with its
// own timeout and the body limit), hand it to the routes, write the reply
// when it comes back, repeat while keep-alive. One request at a time per
// connection; pipelined requests wait in the read buffer and are served in
// order. Lives on one io thread; kept alive by shared_from_this in every
// pending socket handler and in the reply callback.
//
// Timeouts: one timer per connection, armed rarely. Each phase (header,
// body, write) only stores its deadline; the timer, when it fires, re-arms
// itself for the current deadline or ends the phase. Re-arming a timer per
// request (what beast::basic_stream does) costs a timer-queue update and a
// clock read per phase on the hot path.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>

#include "gateway/context.hpp"
#include "gateway/http_types.hpp"
#include "gateway/request_parser.hpp"

namespace hotlead {

struct edge_env;
class bridge;
class stream_registry;

class http_session : public std::enable_shared_from_this<http_session> {
public:
  // The io_context's own executor type, not the type-erased any_io_executor
  // of beast::tcp_stream: every handler would otherwise pay for the erasure.
  using executor = boost::asio::io_context::executor_type;
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor>;
  using timer_type = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, executor>;

  http_session(socket_type&& socket, edge_env& env, bridge& br, stream_registry& streams);
  ~http_session();

  void run();

private:
  void do_read();
  void parse();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void on_parse_error(boost::beast::error_code ec);
  void on_request();
  void arm_reply();
  bool open_stream();
  bool stream_paused();
  void on_reply(http_reply r);
  void write_piece(bool keep, bool first);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t n);
  void reply_and_close(http_reply r);
  void upgrade(const principal& who);
  void do_close();

  using clock = std::chrono::steady_clock;
  enum class phase : uint8_t { header, body, routing, writing };
  /// Enters a phase; `timeout` from now, or none (routing: the routes
  /// answer within server.request_timeout themselves).
  void enter(phase p, std::optional<std::chrono::milliseconds> timeout);
  void arm_timer(clock::time_point at);
  void on_timer();

  socket_type socket_;
  timer_type timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point timer_at_ = clock::time_point::max(); // when the timer fires next
  phase phase_ = phase::header;
  bool body_timed_out_ = false;
  boost::beast::flat_buffer buffer_;
  /// The context of the next request, its http_request empty (parser_ fills it).
  http_request& fresh_request();
  ctx_ptr ctx_; // the request being read or answered
  std::optional<request_parser> parser_;
  edge_env& env_;
  bridge& br_;
  stream_registry& streams_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::string request_id_;
  std::string head_, body_; // the response being written
  std::shared_ptr<body_source> source_; // a produced body being written (chunked)
  std::string piece_;                   // its current piece
  auth_cache auth_; // the connection's last key, see request_ctx
};

} // namespace hotlead
