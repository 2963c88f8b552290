#include "actors/feed_hub.hpp"

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
  std::vector<listener> to;
  {
    std::lock_guard lock{mtx_};
    for (auto& m : *b)
      add(feed_message{m});
    to.reserve(listeners_.size());
    for (auto& [id, l] : listeners_)
      to.push_back(l);
  }
  // After the windows have them: a reader that resumes now and then gets
  // this batch skips what it has read (by seq).
  for (auto& l : to)
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
  for (auto& m : f.window)
    if (m.seq > after)
      out.messages.push_back(m);
  return out;
}

uint64_t feed_hub::head(uint64_t org) const {
  std::lock_guard lock{mtx_};
  auto i = orgs_.find(org);
  return i == orgs_.end() ? 0 : i->second.head;
}

} // namespace hotlead
