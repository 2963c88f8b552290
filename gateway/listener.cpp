#include "gateway/listener.hpp"

#include <boost/asio/write.hpp>

#include "gateway/context.hpp"
#include "gateway/http_session.hpp"
#include "persistence/log.hpp"

namespace hotlead {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(asio::io_context& ioc, edge_env& env, bridge& br)
  : ioc_(ioc), acceptor_(ioc), env_(env), br_(br) {
}

boost::system::error_code listener::open(const tcp::endpoint& ep) {
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (ec)
    return ec;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  acceptor_.set_option(reuse_port(true), ec);
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
}

void listener::do_accept() {
  acceptor_.async_accept(ioc_, [self = shared_from_this()](boost::system::error_code ec,
                                                           tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    component_log("gateway")->warn("accept failed: {}", ec.message());
  } else if (static_cast<size_t>(env_.edge_metrics.connections.load()) >=
             env_.cfg.max_connections) {
    ++env_.edge_metrics.connections_refused;
    static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
      "Connection: close\r\nRetry-After: 1\r\nContent-Length: 147\r\n\r\n"
      "{\"type\":\"about:blank\",\"title\":\"Too many connections\",\"status\":503,"
      "\"code\":\"overloaded\",\"detail\":\"connection limit reached (server.max_connections)\"}";
    boost::system::error_code wec;
    asio::write(socket, asio::buffer(busy), wec);
    socket.close(wec);
  } else {
    std::make_shared<http_session>(std::move(socket), env_, br_)->run();
  }
  do_accept();
}

} // namespace hotlead
