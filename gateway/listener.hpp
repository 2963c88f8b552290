// Accepts connections and deals them round-robin to the io threads: each
// accepted socket is created on its io thread's io_context and its session
// runs there for its whole life. One acceptor, no SO_REUSEPORT, so a second
// server on the same port fails with "address in use" instead of silently
// sharing it. Over the connection limit a new connection gets a 503.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace hotlead {

struct edge_env;
class bridge;
class stream_registry;

class listener : public std::enable_shared_from_this<listener> {
public:
  /// An io thread that takes connections: its io_context and its bridge.
  struct target {
    boost::asio::io_context* ioc;
    bridge* br;
    stream_registry* streams; // its WebSocket sessions
  };

  listener(boost::asio::io_context& ioc, edge_env& env, std::vector<target> targets);

  /// Binds and listens; port 0 picks a free port (see port()).
  boost::system::error_code open(const boost::asio::ip::tcp::endpoint& ep);
  uint16_t port() const;

  void run();
  void stop();

private:
  void do_accept();
  void on_accept(const target& t, boost::system::error_code ec,
                 boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::io_context::executor_type>
                   socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_; // after a failed accept (e.g. out of descriptors)
  uint64_t failures_ = 0;           // accepts failed in a row
  edge_env& env_;
  std::vector<target> targets_;
  size_t next_ = 0;
};

} // namespace hotlead
