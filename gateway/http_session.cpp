#include "gateway/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "gateway/ws_session.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;

http_session::http_session(socket_type&& socket, edge_env& env, bridge& br,
                           stream_registry& streams)
  : socket_(std::move(socket)), timer_(socket_.get_executor()), env_(env), br_(br),
    streams_(streams) {
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
    if (stream_paused())
      return;
    beast::error_code ec;
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more)
      break;
    if (ec)
      return on_parse_error(ec);
    // A Content-Length over the limit is already a body_limit error (Beast
    // checks it with the header); a body that follows gets its own timeout.
    if (phase_ == phase::header && parser_->is_header_done()) {
      enter(phase::body, env_.cfg.body_timeout);
      if (parser_->streamed() && !open_stream())
        return;
    }
    if (parser_->is_done())
      return on_request();
    if (used == 0)
      break; // no progress without an error: wait for more bytes rather than spin
  }
  if (stream_paused())
    return;
  // As Beast's readers size it: what the buffer has room for, 512 B to 64 KiB.
  auto room = buffer_.capacity() - buffer_.size();
  auto size = std::clamp<size_t>(room, 512, 65536);
  socket_.async_read_some(buffer_.prepare(size),
                          beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

// A streamed body (import) goes to its body_stream; the header was enough to
// authenticate and check the request, or it is answered now (and the
// connection closed: its body is not read).
bool http_session::open_stream() {
  keep_alive_ = false; // until the request completes: an early answer closes
  version_ = parser_->version();
  request_id_ = ctx_->req.request_id;
  arm_reply();
  ctx_->stream = open_body_stream(ctx_);
  if (!ctx_->stream)
    return false; // answered
  parser_->stream_to(ctx_->stream.get());
  if (!ctx_->req.body.empty()) { // body bytes the parser read with the header
    ctx_->stream->write(ctx_->req.body);
    ctx_->req.body.clear();
  }
  return true;
}

// While the stream is paused nothing is read (the client waits in TCP flow
// control) and no timeout runs; it resumes where it stopped.
bool http_session::stream_paused() {
  if (!ctx_ || !ctx_->stream || !ctx_->stream->paused() || phase_ != phase::body)
    return false;
  enter(phase::routing, std::nullopt);
  ctx_->stream->on_resume([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self)
      return;
    boost::asio::post(self->socket_.get_executor(), [self] {
      self->enter(phase::body, self->env_.cfg.body_timeout);
      self->parse();
    });
  });
  return true;
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
  if (ctx_->stream) // a streamed body's timeout is between reads, not for the whole body
    enter(phase::body, env_.cfg.body_timeout);
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
  arm_reply();
  // Raw `this`: a route calls it within dispatch(), while this read's
  // handler holds the session (a strong capture stored in the session's own
  // context would keep it alive after the connection ends).
  if (!ctx_->req.upgrade.empty())
    ctx_->upgrade = [this](const principal& who) { upgrade(who); };
  dispatch(ctx_);
}

// GET /v1/stream accepted the handshake's request (authenticated): the
// connection becomes a WebSocket session and this HTTP session ends.
void http_session::upgrade(const principal& who) {
  ctx_->answered = true;
  ctx_->done = nullptr;
  --env_.edge_metrics.in_flight;
  env_.edge_metrics.record(ctx_->route, 101,
                           std::chrono::duration<double>(clock::now() - ctx_->start).count());
  timer_at_ = clock::time_point::max();
  timer_.cancel();
  auto& r = ctx_->req;
  auto ws = std::make_shared<ws_session>(std::move(socket_), env_, streams_, who);
  ws->accept(r, std::move(buffer_));
}

void http_session::arm_reply() {
  if (ctx_->done)
    return; // armed at the header already (a streamed body)
  ++env_.edge_metrics.in_flight;
  // Cleared once called (request_ctx::reply): the context does not keep an
  // idle connection alive.
  ctx_->done = [self = shared_from_this()](http_reply rep) {
    --self->env_.edge_metrics.in_flight;
    self->on_reply(std::move(rep));
  };
  ctx_->start = request_ctx::clock::now();
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
  source_ = std::move(r.source);
  if (source_ && version_ == 10)
    keep = false; // HTTP/1.0 has no chunked encoding: the body ends with the connection
  if (!no_body) {
    h += "Content-Type: ";
    h += r.content_type;
    if (!source_) {
      h += "\r\nContent-Length: ";
      h += std::to_string(r.body.size());
    } else if (version_ != 10) {
      h += "\r\nTransfer-Encoding: chunked";
    }
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
  if (source_)
    return write_piece(keep, true);
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

// The next piece of a produced body (body_source), as one chunk; the head
// goes with the first. The source is asked again once the piece is written.
void http_session::write_piece(bool keep, bool first) {
  piece_.clear();
  bool more = source_->next(piece_);
  body_.clear();
  bool chunked = version_ != 10;
  if (chunked && !piece_.empty()) {
    char size[20];
    auto n = std::snprintf(size, sizeof size, "%zx\r\n", piece_.size());
    body_.append(size, static_cast<size_t>(n));
  }
  body_ += piece_;
  if (chunked && !piece_.empty())
    body_ += "\r\n";
  if (chunked && !more)
    body_ += "0\r\n\r\n";
  enter(phase::writing, env_.cfg.body_timeout);
  std::array<boost::asio::const_buffer, 2> bufs{
    boost::asio::buffer(first ? std::string_view{head_} : std::string_view{}),
    boost::asio::buffer(body_)};
  boost::asio::async_write(
    socket_, bufs, [self = shared_from_this(), keep, more](beast::error_code ec, std::size_t n) {
      if (!ec && more)
        return self->write_piece(keep, false);
      self->source_.reset();
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
  // A streamed request armed its reply at the header; when its body never
  // completes nothing answers it, and the armed reply (holding this session)
  // and the stream (holding the context) would keep each other alive.
  if (ctx_ && ctx_->stream && ctx_->done && !ctx_->answered) {
    ctx_->answered = true;
    ctx_->done = nullptr;
    --env_.edge_metrics.in_flight;
    if (parser_)
      parser_->stream_to(nullptr);
    ctx_->stream.reset();
  }
  beast::error_code ec;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  socket_.close(ec);
  timer_at_ = clock::time_point::max();
  timer_.cancel();
}

} // namespace hotlead
