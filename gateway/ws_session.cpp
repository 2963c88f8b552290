#include "gateway/ws_session.hpp"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>

#include "actors/feed_hub.hpp"
#include "gateway/context.hpp"
#include "persistence/log.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// -- stream_registry ----------------------------------------------------------------

void stream_registry::add(ws_session* s, uint64_t org) {
  by_org_[org].push_back(s);
}

void stream_registry::remove(ws_session* s, uint64_t org) {
  auto i = by_org_.find(org);
  if (i == by_org_.end())
    return;
  std::erase(i->second, s);
  if (i->second.empty())
    by_org_.erase(i);
}

void stream_registry::dispatch(const std::vector<feed_message>& batch) {
  for (auto& m : batch) {
    auto i = by_org_.find(m.org);
    if (i == by_org_.end())
      continue;
    // A delivery may close a session; it stays registered (and ignores
    // what follows) until its pending read ends, so the list holds still.
    for (auto* s : i->second)
      s->deliver(m);
  }
}

// -- ws_session -----------------------------------------------------------------------

ws_session::ws_session(socket_type&& socket, edge_env& env, stream_registry& reg, principal who)
  : ws_(std::move(socket)), env_(env), reg_(reg), who_(std::move(who)) {
  ++env_.edge_metrics.connections; // counted apart from the HTTP session it came from
}

ws_session::~ws_session() {
  if (registered_)
    reg_.remove(this, who_.org);
  --env_.edge_metrics.connections;
}

void ws_session::accept(const http_request& r, beast::flat_buffer&& leftover) {
  // The handshake's fields as the parser kept them (gateway/request_parser.hpp).
  http::request<http::empty_body> req{http::verb::get, r.target, 11};
  if (!r.host.empty())
    req.set(http::field::host, r.host);
  req.set(http::field::upgrade, r.upgrade);
  req.set(http::field::connection, r.connection);
  req.set(http::field::sec_websocket_key, r.ws_key);
  req.set(http::field::sec_websocket_version, r.ws_version);
  in_ = std::move(leftover); // bytes a client sent right after its handshake
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) { res.set(http::field::server, "hotlead"); }));
  ws_.read_message_max(64 * 1024);
  ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec)
    return; // a bad handshake: Beast answered it (400) and the socket goes with us
  ws_.text(true);
  reg_.add(this, who_.org);
  registered_ = true;
  do_read();
}

void ws_session::do_read() {
  ws_.async_read(in_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) { // closed by the client, a failed ping, or a message over the limit
    if (registered_) {
      reg_.remove(this, who_.org);
      registered_ = false;
    }
    return;
  }
  auto data = in_.cdata();
  handle({static_cast<const char*>(data.data()), data.size()});
  in_.consume(in_.size());
  if (!closing_)
    do_read();
}

void ws_session::handle(std::string_view text) {
  stream_op op;
  if (auto p = parse_stream_op(text, op))
    return fail("", p->detail);
  if (!op.subscribe) {
    if (op.topic == "leads")
      subs_.all = false;
    else
      subs_.leads.erase(op.lead);
  } else {
    subscribe(op);
  }
  std::string ack = "{\"type\":\"";
  ack += op.subscribe ? "subscribed" : "unsubscribed";
  ack += "\",\"topic\":";
  append_json_string(ack, op.topic);
  ack += ",\"seq\":";
  ack += std::to_string(env_.feed ? env_.feed->head(who_.org) : 0);
  ack += '}';
  send(std::make_shared<const std::string>(std::move(ack)));
}

// A subscription starts now; with resume_from it first replays what the
// window holds after that seq (or says what is gone with a gap message).
void ws_session::subscribe(const stream_op& op) {
  subscription before = subs_;
  if (op.topic == "leads")
    subs_.all = true;
  else
    subs_.leads.insert(op.lead);
  const auto& resume_from = op.resume_from;
  if (!env_.feed)
    return;
  if (!resume_from) {
    // Live from here: what was published before this moment is not sent.
    last_seq_ = std::max(last_seq_, env_.feed->head(who_.org));
    return;
  }
  auto r = env_.feed->since(who_.org, *resume_from);
  if (*resume_from + 1 < r.oldest) {
    std::string gap = "{\"type\":\"gap\",\"from\":" + std::to_string(*resume_from + 1) +
                      ",\"to\":" + std::to_string(r.oldest - 1) +
                      ",\"detail\":\"these messages are older than the replay window "
                      "(stream.replay_window); re-read the leads you need\"}";
    send(std::make_shared<const std::string>(std::move(gap)));
  }
  for (auto& m : r.messages) {
    bool had = before.all || before.leads.count(m.lead) > 0;
    if (m.seq <= last_seq_ && had)
      continue; // sent already under an earlier subscription
    if (matches(m))
      send(m.json);
  }
  last_seq_ = std::max(last_seq_, r.head);
}

bool ws_session::matches(const feed_message& m) const {
  return subs_.all || subs_.leads.count(m.lead) > 0;
}

void ws_session::deliver(const feed_message& m) {
  if (closing_ || m.seq <= last_seq_)
    return; // replayed already, or from before the subscription
  last_seq_ = m.seq;
  if (matches(m))
    send(m.json);
}

void ws_session::send(std::shared_ptr<const std::string> text) {
  if (closing_)
    return;
  if (out_.size() >= env_.cfg.stream_max_queue)
    return close(static_cast<unsigned short>(websocket::close_code::policy_error),
                 "slow consumer: " + std::to_string(out_.size()) +
                   " messages unsent (stream.max_queue); reconnect with resume_from");
  out_.push_back(std::move(text));
  if (!writing_)
    do_write();
}

void ws_session::do_write() {
  writing_ = true;
  auto& front = *out_.front();
  ws_.async_write(boost::asio::buffer(front),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->writing_ = false;
                    if (ec || self->closing_)
                      return;
                    self->out_.pop_front();
                    if (!self->out_.empty())
                      self->do_write();
                  });
}

void ws_session::fail(std::string_view op, std::string detail) {
  std::string m = "{\"type\":\"error\",\"detail\":";
  append_json_string(m, detail);
  if (!op.empty()) {
    m += ",\"op\":";
    append_json_string(m, op);
  }
  m += '}';
  send(std::make_shared<const std::string>(std::move(m)));
}

void ws_session::close(unsigned short code, std::string reason) {
  closing_ = true;
  out_.clear();
  component_log("gateway")->info("closing a stream of org {}: {}", who_.org, reason);
  if (reason.size() > 120)
    reason.resize(120); // a close frame's reason is at most 123 bytes
  if (!writing_) {
    ws_.async_close(websocket::close_reason{static_cast<websocket::close_code>(code), reason},
                    [self = shared_from_this()](beast::error_code) {});
    return;
  }
  // A write is in flight to a client that does not read: a close frame
  // would wait behind it, so the connection is dropped now.
  beast::error_code ignored;
  auto& sock = beast::get_lowest_layer(ws_);
  sock.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

} // namespace hotlead
