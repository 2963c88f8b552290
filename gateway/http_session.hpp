// One HTTP/1.1 connection: read a request (header, then body, each with its
// own timeout and the body limit), hand it to the routes, write the reply
// when it comes back, repeat while keep-alive. One request at a time per
// connection; pipelined requests wait in the read buffer and are served in
// order. Lives on one io thread; kept alive by shared_from_this in every
// pending handler, including the reply callback.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>

#include "gateway/context.hpp"
#include "gateway/http_types.hpp"

namespace hotlead {

struct edge_env;
class bridge;

class http_session : public std::enable_shared_from_this<http_session> {
public:
  // The io_context's own executor type, not the type-erased any_io_executor
  // of beast::tcp_stream: every handler would otherwise pay for the erasure.
  using executor = boost::asio::io_context::executor_type;
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor>;
  using stream_type =
    boost::beast::basic_stream<boost::asio::ip::tcp, executor, boost::beast::unlimited_rate_policy>;
  using timer_type = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, executor>;

  http_session(socket_type&& socket, edge_env& env, bridge& br);
  ~http_session();

  void run();

private:
  void do_read();
  void on_header(boost::beast::error_code ec, std::size_t n);
  void on_body(boost::beast::error_code ec, std::size_t n);
  void on_reply(http_reply r);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t n);
  void reply_and_close(http_reply r);
  void do_close();

  stream_type stream_;
  timer_type body_timer_;
  bool body_timed_out_ = false;
  bool body_timer_armed_ = false;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  edge_env& env_;
  bridge& br_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::string request_id_;
  std::string head_, body_; // the response being written
  auth_cache auth_; // the connection's last key, see request_ctx
};

} // namespace hotlead
