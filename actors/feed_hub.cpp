#include "actors/feed_hub.hpp"

#include <algorithm>

#include "persistence/store.hpp"

namespace hotlead {

std::optional<problem> feed_hub::load(store& db) {
  std::lock_guard lock{mtx_};
  return db.scan_feed(window_, [this](feed_message&& m) { add(std::move(m)); });
}

std::unordered_map<uint64_t, uint64_t> feed_hub::heads() const {
  std::lock_guard lock{mtx_};
  std::unordered_map<uint64_t, uint64_t> out;
  for (auto& [org, f] : orgs_)
    out.emplace(org, f.head);
  return out;
}

void feed_hub::add(feed_message&& m) {
  auto& f = orgs_[m.org];
  f.head = std::max(f.head, m.seq);
  f.window.push_back(std::move(m));
  while (f.window.size() > window_)
    f.window.pop_front();
}

void feed_hub::publish(std::vector<feed_message>&& msgs) {
  auto b = std::make_shared<const std::vector<feed_message>>(std::move(msgs));
  std::lock_guard lock{mtx_};
  for (auto& m : *b)
    add(feed_message{m});
  // After the windows have them (a reader that resumes now and then gets
  // this batch skips what it has read, by seq), and under the lock, so
  // that once unlisten() returns no listener is being called.
  for (auto& [id, l] : listeners_)
    l(b);
}

size_t feed_hub::listen(listener l) {
  std::lock_guard lock{mtx_};
  auto id = next_listener_++;
  listeners_.emplace_back(id, std::move(l));
  return id;
}

void feed_hub::unlisten(size_t id) {
  std::lock_guard lock{mtx_};
  std::erase_if(listeners_, [id](auto& p) { return p.first == id; });
}

feed_hub::replay feed_hub::since(uint64_t org, uint64_t after) const {
  std::lock_guard lock{mtx_};
  replay out;
  auto i = orgs_.find(org);
  if (i == orgs_.end()) {
    out.oldest = 1;
    return out;
  }
  auto& f = i->second;
  out.head = f.head;
  out.oldest = f.window.empty() ? f.head + 1 : f.window.front().seq;
  auto from = std::upper_bound(f.window.begin(), f.window.end(), after,
                               [](uint64_t seq, const feed_message& m) { return seq < m.seq; });
  out.messages.assign(from, f.window.end()); // the window is in seq order
  return out;
}

uint64_t feed_hub::head(uint64_t org) const {
  std::lock_guard lock{mtx_};
  auto i = orgs_.find(org);
  return i == orgs_.end() ? 0 : i->second.head;
}

// -- threshold_registry ----------------------------------------------------------------

void threshold_registry::add(uint64_t org, const threshold_rule& r) {
  std::lock_guard lock{mtx_};
  auto& rules = by_org_[org];
  auto i = std::find_if(rules.begin(), rules.end(), [&](auto& c) { return c.rule == r; });
  if (i == rules.end())
    rules.push_back({r, 1});
  else
    ++i->views;
  count_.fetch_add(1, std::memory_order_relaxed);
}

void threshold_registry::remove(uint64_t org, const threshold_rule& r) {
  std::lock_guard lock{mtx_};
  auto o = by_org_.find(org);
  if (o == by_org_.end())
    return;
  auto& rules = o->second;
  auto i = std::find_if(rules.begin(), rules.end(), [&](auto& c) { return c.rule == r; });
  if (i == rules.end())
    return;
  if (--i->views == 0)
    rules.erase(i);
  if (rules.empty())
    by_org_.erase(o);
  count_.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<threshold_rule> threshold_registry::rules(uint64_t org) const {
  std::vector<threshold_rule> out;
  std::shared_lock lock{mtx_};
  if (auto o = by_org_.find(org); o != by_org_.end())
    for (auto& c : o->second)
      out.push_back(c.rule);
  return out;
}

} // namespace hotlead
