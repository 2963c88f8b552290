#include "actors/webhooks.hpp"

#include <algorithm>

#include "actors/feed_hub.hpp"
#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"

namespace hotlead {

std::optional<problem> webhook_book::load(store& db) {
  std::lock_guard lock{mtx_};
  size_t bad = 0;
  auto err = db.visit_tag('W', {}, [&](std::string_view k, std::string_view v) {
    auto w = k.size() == 17 ? decode_webhook(v, keys::get_be64(k.substr(1))) : std::nullopt;
    if (!w) {
      ++bad;
      return true;
    }
    org_of_[w->id] = w->org;
    note_rule(*w, true);
    by_org_[w->org].push_back(std::move(*w));
    return true;
  });
  if (err)
    return err;
  err = db.visit_tag('T', {}, [&](std::string_view k, std::string_view) {
    if (k.size() == 17)
      hot_[keys::get_be64(k.substr(1))].insert(keys::get_be64(k.substr(9)));
    return true;
  });
  if (err)
    return err;
  err = db.visit_tag('Y', {}, [&](std::string_view k, std::string_view) {
    if (k.size() == 17)
      last_id_ = std::max(last_id_, keys::get_be64(k.substr(9)));
    return true;
  });
  if (bad > 0)
    component_log("store")->warn("skipped {} unreadable webhook records", bad);
  return err;
}

std::vector<webhook> webhook_book::list(uint64_t org) const {
  std::lock_guard lock{mtx_};
  auto i = by_org_.find(org);
  return i == by_org_.end() ? std::vector<webhook>{} : i->second;
}

std::optional<webhook> webhook_book::find(uint64_t org, uint64_t id) const {
  std::lock_guard lock{mtx_};
  return find_locked(org, id);
}

std::optional<webhook> webhook_book::find_any(uint64_t id) const {
  std::lock_guard lock{mtx_};
  auto i = org_of_.find(id);
  return i == org_of_.end() ? std::nullopt : find_locked(i->second, id);
}

std::optional<webhook> webhook_book::find_locked(uint64_t org, uint64_t id) const {
  auto i = by_org_.find(org);
  if (i == by_org_.end())
    return std::nullopt;
  for (auto& w : i->second)
    if (w.id == id)
      return w;
  return std::nullopt;
}

size_t webhook_book::count(uint64_t org) const {
  std::lock_guard lock{mtx_};
  auto i = by_org_.find(org);
  return i == by_org_.end() ? 0 : i->second.size();
}

void webhook_book::note_rule(const webhook& w, bool add) {
  if (!rules_ || !(w.kinds & kind_threshold) || !w.threshold)
    return;
  if (add)
    rules_->add(w.org, *w.threshold);
  else
    rules_->remove(w.org, *w.threshold);
}

void webhook_book::put(const webhook& w, bool reset_view) {
  std::lock_guard lock{mtx_};
  auto& hooks = by_org_[w.org];
  auto i = std::find_if(hooks.begin(), hooks.end(), [&](auto& x) { return x.id == w.id; });
  if (i == hooks.end()) {
    hooks.push_back(w);
  } else {
    note_rule(*i, false);
    *i = w;
  }
  note_rule(w, true);
  org_of_[w.id] = w.org;
  if (reset_view)
    hot_.erase(w.id);
}

void webhook_book::remove(uint64_t org, uint64_t id) {
  std::lock_guard lock{mtx_};
  auto i = by_org_.find(org);
  if (i != by_org_.end()) {
    std::erase_if(i->second, [&](auto& w) {
      if (w.id != id)
        return false;
      note_rule(w, false);
      return true;
    });
    if (i->second.empty())
      by_org_.erase(i);
  }
  org_of_.erase(id);
  hot_.erase(id);
}

void webhook_book::tap(const feed_message& m, std::vector<write_op>& ops) {
  std::lock_guard lock{mtx_};
  auto i = by_org_.find(m.org);
  if (i == by_org_.end())
    return;
  for (auto& w : i->second) {
    if (!w.active)
      continue;
    if (w.kinds & kind_of(m.type))
      add_delivery(w, m, feed_type_name(m.type), *m.json, ops);
    if (!(w.kinds & kind_threshold) || !w.threshold || m.type == feed_type::job_progress)
      continue;
    auto c = threshold_apply(*w.threshold, hot_[w.id], m);
    if (c == crossing::none)
      continue;
    auto key = keys::hot_lead(w.id, m.lead);
    if (c == crossing::up)
      ops.push_back({write_op::put, std::move(key), {}});
    else
      ops.push_back({write_op::del, std::move(key), {}});
    if (c == crossing::left)
      continue;
    add_delivery(w, m, "lead.threshold_crossed", threshold_json(m, *w.threshold, c), ops);
  }
}

void webhook_book::add_delivery(const webhook& w, const feed_message& m, std::string_view type,
                                std::string_view data, std::vector<write_op>& ops) {
  delivery d;
  // Time-ordered (ms * 1024), above every id so far: unique across restarts.
  last_id_ = std::max(last_id_ + 1, static_cast<uint64_t>(now_ms()) * 1024); // under mtx_
  d.id = last_id_;
  d.hook = w.id;
  d.seq = m.seq;
  d.type = type;
  d.created_at = now_ms();
  d.next_at = d.created_at;
  d.body = delivery_body(d.id, w.id, type, d.created_at, data);
  ops.push_back({write_op::put, keys::delivery(w.id, d.id), encode_delivery(d)});
  fresh_.push_back({w.id, d.id, d.next_at});
}

void webhook_book::settled(bool durable) {
  if (fresh_.empty())
    return;
  if (!durable) { // the batch was not written: neither were its deliveries
    fresh_.clear();
    return;
  }
  if (taker_)
    taker_(std::move(fresh_));
  fresh_.clear();
}

void webhook_book::on_deliveries(std::function<void(std::vector<due>&&)> taker) {
  taker_ = std::move(taker);
}

} // namespace hotlead
