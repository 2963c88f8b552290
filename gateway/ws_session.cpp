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
#include "protocol/scoring_model.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// -- stream_registry ----------------------------------------------------------------

void stream_registry::add(uint64_t org) {
  ++by_org_[org].sessions;
  live_.fetch_add(1, std::memory_order_relaxed);
}

void stream_registry::remove(ws_session* s, uint64_t org,
                             const std::unordered_set<uint64_t>& leads) {
  auto i = by_org_.find(org);
  if (i == by_org_.end())
    return;
  std::erase(i->second.broad, s);
  for (auto lead : leads)
    unwatch(s, org, lead);
  live_.fetch_sub(1, std::memory_order_relaxed);
  if (--i->second.sessions == 0)
    by_org_.erase(i);
}

void stream_registry::set_broad(ws_session* s, uint64_t org, bool broad) {
  auto& b = by_org_[org].broad;
  bool in = std::find(b.begin(), b.end(), s) != b.end();
  if (broad && !in)
    b.push_back(s);
  else if (!broad && in)
    std::erase(b, s);
}

void stream_registry::watch(ws_session* s, uint64_t org, uint64_t lead) {
  auto& w = by_org_[org].by_lead[lead];
  if (std::find(w.begin(), w.end(), s) == w.end())
    w.push_back(s);
}

void stream_registry::unwatch(ws_session* s, uint64_t org, uint64_t lead) {
  auto i = by_org_.find(org);
  if (i == by_org_.end())
    return;
  auto j = i->second.by_lead.find(lead);
  if (j == i->second.by_lead.end())
    return;
  std::erase(j->second, s);
  if (j->second.empty())
    i->second.by_lead.erase(j);
}

uint64_t stream_registry::dispatched(uint64_t org) const {
  auto i = by_org_.find(org);
  return i == by_org_.end() ? 0 : i->second.dispatched;
}

void stream_registry::dispatch(const std::vector<feed_message>& batch) {
  for (auto& m : batch) {
    auto i = by_org_.find(m.org);
    if (i == by_org_.end())
      continue;
    auto& o = i->second;
    o.dispatched = m.seq;
    // A delivery may close a session; it stays registered (and ignores
    // what follows) until its pending read ends, so the lists hold still.
    // A session in both lists gets the message once (deliver() checks seq).
    for (auto* s : o.broad)
      s->deliver(m);
    if (m.type == feed_type::job_progress)
      continue;
    if (auto j = o.by_lead.find(m.lead); j != o.by_lead.end())
      for (auto* s : j->second)
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
    reg_.remove(this, who_.org, subs_.leads);
  if (env_.feed)
    for (auto& t : subs_.thresholds)
      env_.feed->thresholds().remove(who_.org, t.rule);
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
  reg_.add(who_.org);
  registered_ = true;
  do_read();
}

void ws_session::do_read() {
  ws_.async_read(in_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) { // closed by the client, a failed ping, or a message over the limit
    if (registered_) {
      reg_.remove(this, who_.org, subs_.leads);
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
    return fail(p->detail);
  if (op.subscribe)
    subscribe(op);
  else
    unsubscribe(op);
  std::string ack = "{\"type\":\"";
  ack += op.subscribe ? "subscribed" : "unsubscribed";
  ack += "\",\"topic\":";
  append_json_string(ack, op.topic);
  if (op.kind == stream_op::threshold) {
    ack += ",\"score\":";
    ack += format_points(op.rule.score);
    ack += ",\"hysteresis\":";
    ack += format_points(op.rule.hysteresis);
  }
  ack += ",\"seq\":"; // where this connection is: what follows comes after it
  ack += std::to_string(last_seq_);
  ack += '}';
  send(std::make_shared<const std::string>(std::move(ack)));
}

// Messages published before now that have not reached this io thread yet
// go through the topics held so far, so a new topic never hides them.
void ws_session::catch_up() {
  if (!env_.feed)
    return;
  bool any = subs_.all || subs_.jobs || !subs_.leads.empty() || !subs_.thresholds.empty();
  if (!any) {
    last_seq_ = std::max(last_seq_, env_.feed->head(who_.org));
    return;
  }
  // What this thread dispatched so far reached every topic it matched.
  last_seq_ = std::max(last_seq_, reg_.dispatched(who_.org));
  auto r = env_.feed->since(who_.org, last_seq_);
  for (auto& m : r.messages)
    deliver(m);
  last_seq_ = std::max(last_seq_, r.head);
}

// A topic starts now; with resume_from it first replays what the window
// holds after that seq for this topic (or says what is gone with a gap
// message). Subscribing again to a threshold starts its view afresh.
void ws_session::subscribe(const stream_op& op) {
  catch_up();
  bool old_all = subs_.all, old_jobs = subs_.jobs, old_lead = subs_.leads.count(op.lead) > 0;
  threshold_view* view = nullptr;
  switch (op.kind) {
    case stream_op::leads: subs_.all = true; break;
    case stream_op::jobs: subs_.jobs = true; break;
    case stream_op::one_lead: subs_.leads.insert(op.lead); break;
    case stream_op::threshold: {
      drop_threshold(op.rule.score);
      view = &subs_.thresholds.emplace_back(threshold_view{op.rule, {}});
      if (env_.feed)
        env_.feed->thresholds().add(who_.org, op.rule);
      break;
    }
  }
  index_topics(op);
  if (!env_.feed || !op.resume_from)
    return;
  auto r = env_.feed->since(who_.org, *op.resume_from);
  if (*op.resume_from + 1 < r.oldest) {
    std::string gap = "{\"type\":\"gap\",\"from\":" + std::to_string(*op.resume_from + 1) +
                      ",\"to\":" + std::to_string(r.oldest - 1) +
                      ",\"detail\":\"these messages are older than the replay window "
                      "(stream.replay_window); re-read the leads you need\"}";
    send(std::make_shared<const std::string>(std::move(gap)));
  }
  // Whether the topics held before this one sent `m` already.
  auto was_sent = [&](const feed_message& m) {
    if (m.type == feed_type::job_progress)
      return old_jobs;
    return old_all || (m.lead == op.lead ? old_lead : subs_.leads.count(m.lead) > 0);
  };
  // A replay may hold the whole window: it is allowed on top of the queue's
  // bound (stream.max_queue applies to what arrives live meanwhile).
  replaying_ = true;
  for (auto& m : r.messages) {
    if (m.seq > last_seq_) {
      deliver(m); // published since catch_up(): every topic's, this one included
    } else if (view) {
      step(*view, m);
    } else if (matches(m) && !was_sent(m)) {
      send(m.json);
    }
  }
  replaying_ = false;
}

void ws_session::unsubscribe(const stream_op& op) {
  switch (op.kind) {
    case stream_op::leads: subs_.all = false; break;
    case stream_op::jobs: subs_.jobs = false; break;
    case stream_op::one_lead: subs_.leads.erase(op.lead); break;
    case stream_op::threshold: drop_threshold(op.rule.score); break;
  }
  index_topics(op);
}

// Ends the threshold view at `score`, if there is one, and its rule's
// registration (shards then stop sending decay moves it alone needed).
void ws_session::drop_threshold(int64_t score) {
  std::erase_if(subs_.thresholds, [&](auto& t) {
    if (t.rule.score != score)
      return false;
    if (env_.feed)
      env_.feed->thresholds().remove(who_.org, t.rule);
    return true;
  });
}

// Tells the registry what this session's topics can match now.
void ws_session::index_topics(const stream_op& op) {
  if (!registered_)
    return;
  reg_.set_broad(this, who_.org, subs_.all || subs_.jobs || !subs_.thresholds.empty());
  if (op.kind != stream_op::one_lead)
    return;
  if (subs_.leads.count(op.lead))
    reg_.watch(this, who_.org, op.lead);
  else
    reg_.unwatch(this, who_.org, op.lead);
}

bool ws_session::matches(const feed_message& m) const {
  if (m.type == feed_type::job_progress)
    return subs_.jobs;
  return subs_.all || subs_.leads.count(m.lead) > 0;
}

void ws_session::deliver(const feed_message& m) {
  if (closing_ || m.seq <= last_seq_)
    return; // replayed already, or from before the subscription
  last_seq_ = m.seq;
  emit(m);
}

void ws_session::emit(const feed_message& m) {
  if (matches(m))
    send(m.json);
  if (m.type != feed_type::job_progress)
    for (auto& t : subs_.thresholds)
      step(t, m);
}

void ws_session::step(threshold_view& t, const feed_message& m) {
  auto c = threshold_apply(t.rule, t.hot, m);
  if (c == crossing::up || c == crossing::down)
    send(std::make_shared<const std::string>(threshold_json(m, t.rule, c)));
}

void ws_session::send(std::shared_ptr<const std::string> text) {
  if (closing_)
    return;
  if (replaying_)
    ++replay_credit_;
  else if (out_.size() >= env_.cfg.stream_max_queue + replay_credit_)
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
                    if (self->replay_credit_ > 0)
                      --self->replay_credit_;
                    if (!self->out_.empty())
                      self->do_write();
                  });
}

void ws_session::fail(std::string detail) {
  std::string m = "{\"type\":\"error\",\"detail\":";
  append_json_string(m, detail);
  m += '}';
  send(std::make_shared<const std::string>(std::move(m)));
}

void ws_session::close(unsigned short code, std::string reason) {
  closing_ = true;
  // The message being written stays until its write's handler runs.
  out_.erase(out_.begin() + (writing_ ? 1 : 0), out_.end());
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
