#include "gateway/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "gateway/context.hpp"
#include "gateway/http_session.hpp"
#include "persistence/log.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using session_socket = http_session::socket_type;

listener::listener(asio::io_context& ioc, edge_env& env, std::vector<target> targets)
  : ioc_(ioc), acceptor_(ioc), pause_(ioc), env_(env), targets_(std::move(targets)) {
}

boost::system::error_code listener::open(const tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (ec)
    return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return ec;
  acceptor_.bind(ep, ec);
  if (ec)
    return ec;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

uint16_t listener::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void listener::run() {
  do_accept();
}

void listener::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  pause_.cancel();
}

void listener::do_accept() {
  auto t = targets_[next_++ % targets_.size()];
  // The socket is born on the target io thread's context.
  acceptor_.async_accept(*t.ioc, [self = shared_from_this(), t](boost::system::error_code ec,
                                                                session_socket socket) {
    self->on_accept(t, ec, std::move(socket));
  });
}

void listener::on_accept(const target& t, boost::system::error_code ec, session_socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    // Out of descriptors (EMFILE) the pending connection stays queued and
    // the next accept fails at once: pause instead of spinning, and log
    // the first failure of a run and then every 1000th.
    if (failures_++ % 1000 == 0)
      component_log("gateway")->warn("accept failed: {} ({} in a row; pausing 50 ms)",
                                     ec.message(), failures_);
    pause_.expires_after(std::chrono::milliseconds{50});
    pause_.async_wait([self = shared_from_this()](boost::system::error_code e) {
      if (!e && self->acceptor_.is_open())
        self->do_accept();
    });
    return;
  }
  failures_ = 0;
  if (static_cast<size_t>(env_.edge_metrics.connections.load()) >= env_.cfg.max_connections) {
    ++env_.edge_metrics.connections_refused;
    static const std::string busy = [] {
      auto body = problem_json(
        {errc::overloaded, "connection limit reached (server.max_connections); retry later"}, {});
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
             "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    boost::system::error_code wec;
    asio::write(socket, asio::buffer(busy), wec);
    socket.close(wec);
  } else {
    auto session = std::make_shared<http_session>(std::move(socket), env_, *t.br, *t.streams);
    asio::post(*t.ioc, [session] { session->run(); });
  }
  do_accept();
}

} // namespace hotlead
