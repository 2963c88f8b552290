#include "gateway/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <ctime>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;

http_session::http_session(socket_type&& socket, edge_env& env, bridge& br)
  : socket_(std::move(socket)), timer_(socket_.get_executor()), env_(env), br_(br) {
  ++env_.edge_metrics.connections;
  ++env_.edge_metrics.connections_total;
}

http_session::~http_session() {
  --env_.edge_metrics.connections;
}

void http_session::run() {
  beast::error_code ec;
  socket_.set_option(boost::asio::ip::tcp::no_delay{true}, ec);
  do_read();
}

// -- timeouts -----------------------------------------------------------------------

namespace {

// CLOCK_MONOTONIC_COARSE is steady_clock's clock (CLOCK_MONOTONIC) at the
// last tick (a few ms behind), read without the TSC: cheap enough to stamp
// every phase. A deadline from it is at most a tick early; the timer
// itself checks against the precise clock.
std::chrono::steady_clock::time_point coarse_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point{std::chrono::seconds{ts.tv_sec} +
                                               std::chrono::nanoseconds{ts.tv_nsec}};
}

} // namespace

void http_session::enter(phase p, std::optional<std::chrono::milliseconds> timeout) {
  phase_ = p;
  if (!timeout) {
    deadline_ = clock::time_point::max();
    return;
  }
  deadline_ = coarse_now() + *timeout;
  // A later deadline is picked up when the armed timer fires; only an
  // earlier one (a shorter timeout than the last) needs the timer moved.
  if (deadline_ < timer_at_)
    arm_timer(deadline_);
}

void http_session::arm_timer(clock::time_point at) {
  timer_at_ = at;
  timer_.expires_at(at);
  // A weak reference: an idle timer must not keep a closed connection alive.
  timer_.async_wait([weak = weak_from_this(), at](beast::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->timer_at_ != at)
      return; // cancelled, gone, or superseded by a later arm_timer
    self->on_timer();
  });
}

void http_session::on_timer() {
  timer_at_ = clock::time_point::max();
  if (deadline_ == clock::time_point::max())
    return; // routing: the next phase arms the timer again
  if (clock::now() < deadline_)
    return arm_timer(deadline_);
  beast::error_code ignored;
  switch (phase_) {
    case phase::body:
      // Cancel the read; on_read answers 400 on a socket that still works.
      body_timed_out_ = true;
      socket_.cancel(ignored);
      break;
    case phase::header: // an idle keep-alive connection, or a client too slow to send
    case phase::writing: // a client that does not read its answer
    case phase::routing:
      do_close();
      break;
  }
}

// -- the request cycle --------------------------------------------------------------

void http_session::do_read() {
  if (env_.draining.load())
    return do_close();
  parser_.emplace(fresh_request());
  parser_->header_limit(16 * 1024);
  parser_->body_limit(env_.cfg.max_body_bytes);
  body_timed_out_ = false;
  enter(phase::header, env_.cfg.header_timeout);
  parse();
}

// Feeds what the buffer holds to the parser (a pipelined request may be
// there already) and reads more while the request is incomplete. Beast's
// async_read does the same through several layers of composed operations;
// this loop is the part of it the edge needs, at a fraction of the cost.
void http_session::parse() {
  while (buffer_.size() > 0) {
    beast::error_code ec;
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more)
      break;
    if (ec)
      return on_parse_error(ec);
    if (parser_->is_done())
      return on_request();
    // A Content-Length over the limit is already a body_limit error (Beast
    // checks it with the header); a body that follows gets its own timeout.
    if (phase_ == phase::header && parser_->is_header_done())
      enter(phase::body, env_.cfg.body_timeout);
    if (used == 0)
      break; // no progress without an error: wait for more bytes rather than spin
  }
  // As Beast's readers size it: what the buffer has room for, 512 B to 64 KiB.
  auto room = buffer_.capacity() - buffer_.size();
  auto size = std::clamp<size_t>(room, 512, 65536);
  socket_.async_read_some(buffer_.prepare(size),
                          beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t n) {
  buffer_.commit(n);
  if (body_timed_out_) // the timer cancelled the read: answer while the socket still works
    return reply_and_close(problem_reply(
      {errc::invalid_request, "the request body did not arrive within " +
                                std::to_string(env_.cfg.body_timeout.count()) +
                                " ms (server.body_timeout)"},
      {}));
  if (ec == boost::asio::error::eof && parser_->got_some()) {
    beast::error_code eof_ec; // a body delimited by the end of the stream
    parser_->put_eof(eof_ec);
    if (!eof_ec && parser_->is_done())
      return on_request();
  }
  if (ec)
    return do_close(); // closed by the client, reset, or timed out in another phase
  parse();
}

void http_session::on_parse_error(beast::error_code ec) {
  if (ec == http::error::header_limit)
    return reply_and_close(problem_reply(
      {errc::invalid_request, "request headers are larger than 16 KiB"}, {}));
  if (ec == http::error::body_limit)
    return reply_and_close(problem_reply(
      {errc::body_too_large, "request body is over the limit of " +
                               std::to_string(env_.cfg.max_body_bytes) +
                               " bytes (server.max_body_bytes); split it into smaller requests"},
      {}));
  reply_and_close(
    problem_reply({errc::invalid_request, "malformed HTTP request: " + ec.message()}, {}));
}

void http_session::on_request() {
  keep_alive_ = parser_->keep_alive();
  version_ = parser_->version();
  request_id_ = ctx_->req.request_id;
  enter(phase::routing, std::nullopt);
  ++env_.edge_metrics.in_flight;
  // Cleared once called (request_ctx::reply): the context does not keep an
  // idle connection alive.
  ctx_->done = [self = shared_from_this()](http_reply rep) {
    --self->env_.edge_metrics.in_flight;
    self->on_reply(std::move(rep));
  };
  ctx_->start = request_ctx::clock::now();
  dispatch(ctx_);
}

http_request& http_session::fresh_request() {
  // The last request's context is reused, its strings with their capacity,
  // unless something still holds it (a callback of a request that timed out).
  if (ctx_ && ctx_.use_count() == 1)
    ctx_->reset();
  else
    ctx_ = std::make_shared<request_ctx>(env_, br_, http_request{}, responder{}, &auth_);
  return ctx_->req;
}

void http_session::on_reply(http_reply r) {
  // The response head is written by hand into the connection's buffer (its
  // capacity is reused) and sent with the body in one gathered write: Beast's
  // serializer cost ~1.5 us per response (docs/PERFORMANCE.md).
  bool keep = keep_alive_ && !env_.draining.load();
  auto& h = head_;
  h.clear();
  h += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  h.append(reason.data(), reason.size());
  h += "\r\nServer: hotlead\r\n";
  bool no_body = r.status == 204 || r.status == 304 || r.status < 200;
  if (!no_body) {
    h += "Content-Type: ";
    h += r.content_type;
    h += "\r\nContent-Length: ";
    h += std::to_string(r.body.size());
    h += "\r\n";
  }
  for (auto& [k, v] : r.headers) {
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (!request_id_.empty()) {
    h += "X-Request-Id: ";
    h += request_id_;
    h += "\r\n";
  }
  if (version_ == 10 && keep)
    h += "Connection: keep-alive\r\n";
  else if (version_ != 10 && !keep)
    h += "Connection: close\r\n";
  h += "\r\n";
  body_ = std::move(r.body);
  if (no_body)
    body_.clear();
  enter(phase::writing, env_.cfg.body_timeout);
  std::array<boost::asio::const_buffer, 2> bufs{boost::asio::buffer(head_),
                                                boost::asio::buffer(body_)};
  boost::asio::async_write(socket_, bufs,
                           [self = shared_from_this(), keep](beast::error_code ec, std::size_t n) {
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
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  socket_.close(ec);
  timer_at_ = clock::time_point::max();
  timer_.cancel();
}

} // namespace hotlead
