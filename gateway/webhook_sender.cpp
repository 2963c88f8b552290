#include "gateway/webhook_sender.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <ctime>
#include <random>

#include "gateway/auth.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"

namespace hotlead {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
std::optional<std::chrono::milliseconds> retry_after_of(std::string_view v) {
  if (v.empty())
    return std::nullopt;
  if (v.find_first_not_of("0123456789") == v.npos && v.size() < 10)
    return std::chrono::seconds{std::stoll(std::string{v})};
  std::tm tm{};
  std::string text{v};
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm))
    return std::nullopt;
  auto at = static_cast<int64_t>(timegm(&tm)) * 1000;
  return std::chrono::milliseconds{std::max<int64_t>(0, at - now_ms())};
}

std::string under_hook(uint64_t hook) {
  std::string s;
  put_be64(s, hook);
  return s;
}

} // namespace

struct webhook_sender::attempt {
  explicit attempt(asio::io_context& ioc) : resolver(ioc), stream(ioc) {}
  tcp::resolver resolver;
  beast::tcp_stream stream;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
  beast::flat_buffer buf;
  std::chrono::steady_clock::time_point t0;
  uint64_t hook = 0;
  delivery d;
};

webhook_sender::webhook_sender(store& db, journal& jr, webhook_book& book, sender_options o)
  : db_(db), jr_(jr), book_(book), opt_(o), work_(asio::make_work_guard(ioc_)) {}

webhook_sender::~webhook_sender() {
  stop();
}

std::optional<problem> webhook_sender::start() {
  std::vector<webhook_book::due> pending;
  auto err = db_.visit_tag('Y', {}, [&](std::string_view k, std::string_view v) {
    auto d = decode_delivery(v);
    if (!d)
      return true;
    if (d->state == delivery::pending)
      pending.push_back({d->hook, d->id, d->next_at});
    else if (d->state == delivery::delivered)
      hooks_[d->hook].delivered.push_back(d->id); // key order: oldest first
    return true;
  });
  if (err)
    return err;
  if (!pending.empty())
    component_log("webhooks")->info("{} webhook deliveries pending", pending.size());
  thread_ = std::thread{[this] { ioc_.run(); }};
  add(std::move(pending));
  return std::nullopt;
}

void webhook_sender::stop() {
  work_.reset();
  ioc_.stop();
  if (thread_.joinable())
    thread_.join();
}

void webhook_sender::add(std::vector<webhook_book::due>&& due) {
  asio::post(ioc_, [this, due = std::move(due)] {
    for (auto& d : due)
      schedule(d.hook, d.id, d.next_at);
  });
}

void webhook_sender::schedule(uint64_t hook, uint64_t id, millis at) {
  auto wait = at - now_ms();
  if (wait <= 0) {
    hooks_[hook].ready.push_back(id);
    return pump(hook);
  }
  auto t = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds{wait});
  t->async_wait([this, t, hook, id](beast::error_code ec) {
    if (ec)
      return;
    hooks_[hook].ready.push_back(id);
    pump(hook);
  });
}

void webhook_sender::pump(uint64_t hook) {
  auto& q = hooks_[hook];
  while (q.in_flight < opt_.concurrency && !q.ready.empty()) {
    auto id = q.ready.front();
    q.ready.pop_front();
    ++q.in_flight;
    begin(hook, id);
  }
}

void webhook_sender::begin(uint64_t hook, uint64_t id) {
  auto stored = db_.get(keys::delivery(hook, id));
  auto d = stored ? decode_delivery(*stored) : std::nullopt;
  auto w = book_.find_any(hook);
  std::string why;
  auto ep = w ? parse_endpoint(w->url, why) : std::nullopt;
  if (!d || d->state != delivery::pending || !ep) { // settled, or its webhook is gone
    if (d && !w) // a record written while its webhook was being deleted: drop it
      jr_.append({{write_op::del, keys::delivery(hook, id), {}}},
                 [](const std::optional<problem>&) {}, 0);
    --hooks_[hook].in_flight;
    return asio::post(ioc_, [this, hook] { pump(hook); });
  }
  auto a = std::make_shared<attempt>(ioc_);
  a->hook = hook;
  a->d = std::move(*d);
  a->t0 = std::chrono::steady_clock::now();
  auto ts = std::to_string(now_ms() / 1000);
  auto& req = a->req;
  req.method(http::verb::post);
  req.target(ep->target);
  req.version(11);
  req.set(http::field::host, ep->port == "80" ? ep->host : ep->host + ":" + ep->port);
  req.set(http::field::user_agent, "hotlead-webhooks");
  req.set(http::field::content_type, "application/json");
  req.set("Hotlead-Delivery-Id", id_to_hex(id));
  req.set("Hotlead-Webhook-Id", id_to_hex(hook));
  req.set("Hotlead-Event", a->d.type);
  req.set("Hotlead-Attempt", std::to_string(a->d.attempts + 1));
  req.set("Hotlead-Timestamp", ts);
  req.set("Hotlead-Signature", "v1=" + hmac_sha256_hex(w->secret, ts + "." + a->d.body));
  req.keep_alive(false);
  req.body() = a->d.body;
  req.prepare_payload();
  auto fail = [this, a](std::string_view step, beast::error_code ec) {
    auto ms = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - a->t0)
                                      .count());
    std::string why = ec == beast::error::timeout
                        ? "no answer within " + std::to_string(opt_.timeout.count()) + " ms"
                        : std::string{step} + ": " + ec.message();
    finish(a->hook, std::move(a->d), 0, std::move(why), ms, std::nullopt);
  };
  a->stream.expires_after(opt_.timeout);
  a->resolver.async_resolve(ep->host, ep->port, [this, a, fail](beast::error_code ec,
                                                                  tcp::resolver::results_type r) {
    if (ec)
      return fail("resolving the host", ec);
    a->stream.async_connect(r, [this, a, fail](beast::error_code ec, const tcp::endpoint&) {
      if (ec)
        return fail("connecting", ec);
      http::async_write(a->stream, a->req, [this, a, fail](beast::error_code ec, size_t) {
        if (ec)
          return fail("sending", ec);
        http::async_read(a->stream, a->buf, a->res, [this, a, fail](beast::error_code ec,
                                                                     size_t) {
          if (ec)
            return fail("reading the answer", ec);
          beast::error_code ignored;
          a->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          auto ms = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - a->t0)
                                            .count());
          auto ra_text = a->res[http::field::retry_after];
          auto ra = retry_after_of({ra_text.data(), ra_text.size()});
          finish(a->hook, std::move(a->d), static_cast<int>(a->res.result_int()), {}, ms, ra);
        });
      });
    });
  });
}

std::chrono::milliseconds webhook_sender::backoff(uint32_t attempts) {
  // base * 2^(n-1), capped, then "equal jitter": half of it fixed, half
  // random, so retries of many deliveries spread out without collapsing to 0.
  auto exp = std::min<uint32_t>(attempts - 1, 30);
  auto full = std::min<int64_t>(opt_.retry_max.count(), opt_.retry_base.count() << exp);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> half(0, full / 2);
  return std::chrono::milliseconds{full - full / 2 + half(rng)};
}

void webhook_sender::finish(uint64_t hook, delivery d, int status, std::string error, uint32_t ms,
                            std::optional<std::chrono::milliseconds> retry_after) {
  auto& q = hooks_[hook];
  if (!book_.find_any(hook)) { // deleted meanwhile, with its records: write nothing back
    --q.in_flight;
    return;
  }
  auto now = now_ms();
  bool ok = status >= 200 && status < 300;
  bool final = status >= 400 && status < 500 && status != 408 && status != 429;
  if (status && !ok)
    error = "the receiver answered " + std::to_string(status) +
            (final ? ": not retried (only 408, 429, 5xx and no answer are)" : "");
  ++d.attempts;
  d.recent.push_back({now, status, std::move(error), ms});
  if (d.recent.size() > delivery_recent_attempts)
    d.recent.erase(d.recent.begin());
  if (ok) {
    d.state = delivery::delivered;
  } else if (final || d.attempts >= opt_.max_attempts) {
    d.state = delivery::parked;
    component_log("webhooks")->warn("delivery {} of webhook {} parked after {} attempts: {}",
                                    id_to_hex(d.id), id_to_hex(hook), d.attempts,
                                    d.recent.back().error);
  } else {
    auto delay = retry_after ? std::min(*retry_after, opt_.retry_max) : backoff(d.attempts);
    d.state = delivery::pending;
    d.next_at = now + delay.count();
  }
  std::vector<write_op> ops;
  ops.push_back({write_op::put, keys::delivery(hook, d.id), encode_delivery(d)});
  if (ok) {
    q.delivered.push_back(d.id);
    while (q.delivered.size() > opt_.keep_delivered) {
      ops.push_back({write_op::del, keys::delivery(hook, q.delivered.front()), {}});
      q.delivered.pop_front();
    }
  }
  // A retry is scheduled once its record is durable, so it reads that record.
  bool retry = d.state == delivery::pending;
  auto id = d.id;
  auto next = d.next_at;
  jr_.append(std::move(ops), [this, retry, hook, id, next](const std::optional<problem>& err) {
    if (retry && !err)
      asio::post(ioc_, [this, hook, id, next] { schedule(hook, id, next); });
  }, 0);
  --q.in_flight;
  pump(hook);
}

void webhook_sender::replay(uint64_t hook, const std::vector<uint64_t>& ids, replay_done done) {
  std::vector<write_op> ops;
  std::vector<webhook_book::due> due;
  std::vector<uint64_t> replayed;
  auto now = now_ms();
  auto err = db_.visit_tag('Y', under_hook(hook), [&](std::string_view, std::string_view v) {
    auto d = decode_delivery(v);
    if (!d || d->state != delivery::parked ||
        (!ids.empty() && std::find(ids.begin(), ids.end(), d->id) == ids.end()))
      return true;
    d->state = delivery::pending;
    d->attempts = 0;
    d->next_at = now;
    ops.push_back({write_op::put, keys::delivery(hook, d->id), encode_delivery(*d)});
    due.push_back({hook, d->id, now});
    replayed.push_back(d->id);
    return true;
  });
  if (err || ops.empty())
    return done(err, {});
  jr_.append(std::move(ops),
             [this, due = std::move(due), replayed = std::move(replayed),
              done = std::move(done)](const std::optional<problem>& e) mutable {
               if (!e)
                 add(std::move(due));
               done(e, e ? std::vector<uint64_t>{} : std::move(replayed));
             });
}

} // namespace hotlead
