// Accepts connections on one io thread. Each io thread has its own listener
// bound to the same port with SO_REUSEPORT, so the kernel spreads
// connections over the threads and a connection never changes thread.
// Over the connection limit a new connection gets a 503 and is closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace hotlead {

struct edge_env;
class bridge;

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& ioc, edge_env& env, bridge& br);

  /// Binds and listens; port 0 picks a free port (see port()).
  boost::system::error_code open(const boost::asio::ip::tcp::endpoint& ep);
  uint16_t port() const;

  void run();
  void stop();

private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  edge_env& env_;
  bridge& br_;
};

} // namespace hotlead
