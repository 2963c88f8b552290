#include "gateway/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http.hpp>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;

http_session::http_session(boost::asio::ip::tcp::socket&& socket, edge_env& env, bridge& br)
  : stream_(std::move(socket)), body_timer_(stream_.get_executor()), env_(env), br_(br) {
  ++env_.edge_metrics.connections;
  ++env_.edge_metrics.connections_total;
}

http_session::~http_session() {
  --env_.edge_metrics.connections;
}

void http_session::run() {
  beast::error_code ec;
  stream_.socket().set_option(boost::asio::ip::tcp::no_delay{true}, ec);
  do_read();
}

void http_session::do_read() {
  if (env_.draining.load())
    return do_close();
  parser_.emplace();
  parser_->header_limit(16 * 1024);
  parser_->body_limit(env_.cfg.max_body_bytes);
  stream_.expires_after(env_.cfg.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
    return do_close();
  if (ec == http::error::header_limit)
    return reply_and_close(problem_reply(
      {errc::invalid_request, "request headers are larger than 16 KiB"}, {}));
  if (ec == http::error::body_limit) // Content-Length over the limit, seen with the headers
    return reply_and_close(problem_reply(
      {errc::body_too_large, "request body is over the limit of " +
                               std::to_string(env_.cfg.max_body_bytes) +
                               " bytes (server.max_body_bytes); split it into smaller requests"},
      {}));
  if (ec)
    return reply_and_close(
      problem_reply({errc::invalid_request, "malformed HTTP request: " + ec.message()}, {}));
  auto len = parser_->content_length();
  if (len && *len > env_.cfg.max_body_bytes)
    return reply_and_close(problem_reply(
      {errc::body_too_large, "request body of " + std::to_string(*len) +
                               " bytes is over the limit of " +
                               std::to_string(env_.cfg.max_body_bytes) +
                               " (server.max_body_bytes); split it into smaller requests"},
      {}));
  // The body has its own timer (not the stream's expiry, which would close
  // the socket): on expiry the read is cancelled and a 400 can still be sent.
  stream_.expires_never();
  body_timed_out_ = false;
  body_timer_.expires_after(env_.cfg.body_timeout);
  body_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return; // cancelled: the body arrived
    self->body_timed_out_ = true;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_body, shared_from_this()));
}

void http_session::on_body(beast::error_code ec, std::size_t) {
  body_timer_.cancel();
  if (body_timed_out_)
    return reply_and_close(problem_reply(
      {errc::invalid_request, "the request body did not arrive within " +
                                std::to_string(env_.cfg.body_timeout.count()) +
                                " ms (server.body_timeout)"},
      {}));
  if (ec == http::error::body_limit)
    return reply_and_close(problem_reply(
      {errc::body_too_large, "request body is over the limit of " +
                               std::to_string(env_.cfg.max_body_bytes) +
                               " bytes (server.max_body_bytes)"},
      {}));
  if (ec)
    return do_close();
  auto req = parser_->release();
  keep_alive_ = req.keep_alive();
  version_ = req.version();
  http_request r;
  r.method = std::string{req.method_string()};
  r.target = std::string{req.target()};
  r.authorization = std::string{req[http::field::authorization]};
  r.content_type = std::string{req[http::field::content_type]};
  r.request_id = std::string{req["X-Request-Id"]}.substr(0, 128);
  r.body = std::move(req.body());
  request_id_ = r.request_id;
  stream_.expires_never(); // the routes answer within request_timeout
  ++env_.edge_metrics.in_flight;
  auto ctx = std::make_shared<request_ctx>(env_, br_, std::move(r),
                                           [self = shared_from_this()](http_reply rep) {
                                             --self->env_.edge_metrics.in_flight;
                                             self->on_reply(std::move(rep));
                                           },
                                           &auth_);
  dispatch(ctx);
}

void http_session::on_reply(http_reply r) {
  auto res = std::make_shared<http::response<http::string_body>>(
    static_cast<http::status>(r.status), version_);
  res->set(http::field::server, "hotlead");
  if (!r.body.empty() || r.status != 204)
    res->set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers)
    res->set(k, v);
  if (!request_id_.empty())
    res->set("X-Request-Id", request_id_);
  bool keep = keep_alive_ && !env_.draining.load();
  res->keep_alive(keep);
  res->body() = std::move(r.body);
  res->prepare_payload();
  stream_.expires_after(env_.cfg.body_timeout);
  http::async_write(stream_, *res,
                    [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t n) {
                      self->on_write(keep, ec, n);
                    });
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (ec || !keep_alive)
    return do_close();
  do_read();
}

void http_session::reply_and_close(http_reply r) {
  keep_alive_ = false;
  env_.edge_metrics.record(route_id::unmatched, r.status, 0);
  on_reply(std::move(r));
}

void http_session::do_close() {
  beast::error_code ec;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

} // namespace hotlead
