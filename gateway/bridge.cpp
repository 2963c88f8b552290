#include "gateway/bridge.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <mutex>
#include <thread>

namespace hotlead {

// Direct replies from other threads, handed to the io thread in batches: one
// post per burst, however many replies it carries.
class bridge_sink final : public reply_sink, public std::enable_shared_from_this<bridge_sink> {
public:
  bridge_sink(boost::asio::io_context& ioc, bridge* br) : ioc_(ioc), br_(br) {}

  void deliver(uint64_t token, direct_result r) override {
    std::lock_guard lock{mtx_};
    if (!br_)
      return;
    items_.emplace_back(token, std::move(r));
    if (!posted_) {
      posted_ = true;
      boost::asio::post(ioc_, [self = shared_from_this()] { self->drain(); });
    }
  }

  // Io thread: the bridge is going away; later replies are dropped.
  void close() {
    std::lock_guard lock{mtx_};
    br_ = nullptr;
    items_.clear();
  }

private:
  void drain() { // io thread, as close(): the only writer of br_
    std::vector<std::pair<uint64_t, direct_result>> items;
    {
      std::lock_guard lock{mtx_};
      items.swap(items_);
      posted_ = false;
    }
    for (auto& [token, r] : items)
      if (br_)
        br_->complete(token, r);
  }

  boost::asio::io_context& ioc_;
  std::mutex mtx_;
  bridge* br_;
  std::vector<std::pair<uint64_t, direct_result>> items_;
  bool posted_ = false;
};

// Event writes of one turn of the io loop, per shard; sent by flush(),
// which the first of them posts (it runs after the reads already completed
// in this turn).
struct bridge::outbox {
  bool closed = false;
  bool posted = false;
  std::vector<std::pair<caf::actor, std::vector<msg::add_event>>> per_shard;

  void flush() {
    posted = false;
    for (auto& [dest, items] : per_shard) {
      if (items.empty() || closed)
        continue;
      if (items.size() == 1)
        caf::anon_send(dest, std::move(items.front()));
      else
        caf::anon_send(dest, msg::add_event_burst{std::move(items)});
      items.clear();
    }
    if (closed)
      per_shard.clear();
  }
};

// Lead reads of one turn of the io loop, done together by flush(), which
// the first of them posts.
struct bridge::reads {
  struct item {
    const lead_table* table;
    uint64_t org, id;
    const model_registry* models;
    render_fn render;
    read_callback cb;
    std::string text;
    bool found = false;
  };

  bool closed = false;
  bool posted = false;
  std::vector<item> items;
  std::vector<item> taken; // flush()'s, kept for its capacity

  void flush() {
    posted = false;
    if (closed) {
      items.clear();
      return;
    }
    // Callbacks may read again (a pipelined GET): those go to `items` and a new flush.
    taken.swap(items);
    std::sort(taken.begin(), taken.end(),
              [](const item& a, const item& b) { return a.table < b.table; });
    for (size_t i = 0; i < taken.size();) {
      size_t n = 1;
      while (i + n < taken.size() && n < lead_table::batch_max &&
             taken[i + n].table == taken[i].table)
        ++n;
      taken[i].table->read_batch(std::span{taken.data() + i, n}, [](item& it, const lead* l) {
        if (l) {
          it.text = it.render(*l, *it.models);
          it.found = true;
        }
      });
      i += n;
    }
    for (auto& it : taken)
      it.cb(it.id, it.found ? &it.text : nullptr);
    taken.clear();
  }
};

bridge::bridge(caf::actor_system& sys, boost::asio::io_context& ioc,
               std::chrono::milliseconds deadline)
  : ioc_(ioc), eu_(&sys), sink_(std::make_shared<bridge_sink>(ioc, this)),
    outbox_(std::make_shared<outbox>()), reads_(std::make_shared<reads>()), deadline_(deadline),
    timer_(ioc) {
  auto hdl = sys.spawn<bridge_companion, caf::hidden>();
  hdl_ = caf::actor_cast<caf::strong_actor_ptr>(hdl);
  self_ = static_cast<bridge_companion*>(caf::actor_cast<caf::abstract_actor*>(hdl_));
  // Without a behavior a companion terminates once nothing is pending.
  self_->become([](caf::unit_t) {});
  // Called from any thread (CAF workers): hop onto this io_context.
  self_->on_enqueue([this](caf::mailbox_element_ptr ptr) {
    boost::asio::post(ioc_, [this, p = std::move(ptr)]() mutable {
      if (self_)
        self_->activate(&eu_, *p);
    });
  });
}

bridge::~bridge() {
  shutdown();
}

void bridge::shutdown() {
  for (auto& t : blocking_)
    if (t.joinable())
      t.join();
  blocking_.clear();
  if (!self_)
    return;
  static_cast<bridge_sink&>(*sink_).close();
  outbox_->closed = true;
  reads_->closed = true;
  reads_->items.clear();
  timer_.cancel();
  self_->on_enqueue(nullptr);
  self_->cleanup(caf::make_error(caf::exit_reason::user_shutdown), &eu_);
  self_ = nullptr;
  hdl_ = nullptr;
}

void bridge::post(std::function<void()> fn) {
  boost::asio::post(ioc_, std::move(fn));
}

void bridge::run_blocking(std::function<void()> work, std::function<void()> then) {
  // Joined at shutdown (snapshots are rare: a handful of threads at most).
  blocking_.emplace_back([this, work = std::move(work), then = std::move(then)]() mutable {
    work();
    boost::asio::post(ioc_, std::move(then)); // dropped if the io_context has stopped
  });
}

void bridge::arm_sweep() {
  if (timer_armed_)
    return;
  timer_armed_ = true;
  // Coarse: deadlines are enforced within ~deadline/4 (at least 10 ms).
  auto period = std::max(deadline_ / 4, std::chrono::milliseconds{10});
  timer_.expires_after(period);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    timer_armed_ = false;
    if (ec || !self_)
      return;
    sweep();
    if (!pending_.empty())
      arm_sweep();
  });
}

void bridge::sweep() {
  auto now = clock::now();
  // Every entry is looked at: request_within() deadlines are not in token
  // order (a sweep every deadline/4 over the requests in flight is cheap).
  std::vector<entry> expired;
  for (auto i = pending_.begin(); i != pending_.end();) {
    if (i->second.deadline <= now) {
      expired.push_back(std::move(i->second));
      i = pending_.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& e : expired) {
    if (e.on_reply) {
      direct_result r = problem{errc::timeout,
                                "a shard did not answer in time; retry (server.request_timeout)"};
      e.on_reply(r);
    } else {
      e.on_timeout();
    }
  }
}

void bridge::request_event(const caf::actor& shard, std::function<void(direct_result&)> cb,
                           msg::add_event m) {
  auto token = next_token_++;
  pending_.emplace(token, entry{clock::now() + deadline_, {}, std::move(cb)});
  arm_sweep();
  m.route = reply_route{sink_, token};
  auto& boxes = outbox_->per_shard;
  auto it = std::find_if(boxes.begin(), boxes.end(), [&](auto& b) { return b.first == shard; });
  if (it == boxes.end())
    it = boxes.insert(boxes.end(), {shard, {}});
  it->second.push_back(std::move(m));
  if (!outbox_->posted) {
    outbox_->posted = true;
    boost::asio::post(ioc_, [box = outbox_] { box->flush(); });
  }
}

void bridge::read_lead(const lead_table& table, uint64_t org, uint64_t id,
                       const model_registry& models, render_fn render, read_callback cb) {
  reads_->items.push_back({&table, org, id, &models, render, std::move(cb), {}, false});
  if (!reads_->posted) {
    reads_->posted = true;
    boost::asio::post(ioc_, [r = reads_] { r->flush(); });
  }
}

void bridge::complete(uint64_t token, direct_result& r) {
  auto i = pending_.find(token);
  if (i == pending_.end())
    return; // answered already (timed out)
  auto cb = std::move(i->second.on_reply);
  pending_.erase(i);
  cb(r);
}

} // namespace hotlead
