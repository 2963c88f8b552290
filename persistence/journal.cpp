#include "persistence/journal.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"

namespace hotlead {

journal::journal(store& db, bool sync, uint64_t min_free_bytes)
  : db_(db), sync_(sync), min_free_bytes_(min_free_bytes) {
  thread_ = std::thread{[this] { run(); }};
}

journal::~journal() {
  stop();
}

void journal::append(std::vector<write_op> ops, callback done, size_t writes) {
  {
    std::lock_guard lock{mtx_};
    if (!stopping_) {
      queue_.push_back({std::move(ops), std::move(done), writes});
      cv_.notify_one();
      return;
    }
  }
  done(problem{errc::not_ready, "server is shutting down; retry on another node or later"});
}

void journal::stop() {
  {
    std::lock_guard lock{mtx_};
    if (stopping_ && !thread_.joinable())
      return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable())
    thread_.join();
}

void journal::set_feed(feed_setup f) {
  std::lock_guard lock{mtx_};
  feed_ = std::move(f);
}

std::string journal::last_error() const {
  std::lock_guard lock{mtx_};
  if (!last_error_.empty())
    return last_error_;
  if (low_space_.empty())
    return {};
  auto free = db_.free_bytes(); // space may have come back since the last commit
  return free && *free >= min_free_bytes_ ? std::string{} : low_space_;
}

void journal::run() {
  std::vector<entry> batch;
  for (;;) {
    {
      std::unique_lock lock{mtx_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_)
        return;
      batch.swap(queue_);
    }
    auto err = commit(batch);
    for (auto& e : batch)
      e.done(err);
    batch.clear();
  }
}

std::optional<problem> journal::commit(std::vector<entry>& batch) {
  for (auto& e : batch)
    stats_.writes += e.writes;
  {
    // After a failed commit (a full disk, an I/O error) the WAL is never
    // written again in this process: RocksDB cannot resume it (DB::Resume
    // trips an assertion in Debian's 7.8 build), so refuse until a restart.
    std::lock_guard lock{mtx_};
    if (!last_error_.empty()) {
      ++stats_.failures;
      return problem{errc::storage_error,
                     "storage refused an earlier write (" + last_error_ +
                       "); nothing was written; fix the cause (e.g. free disk space) and "
                       "restart the server"};
    }
  }
  if (min_free_bytes_ > 0) {
    auto free = db_.free_bytes();
    std::lock_guard lock{mtx_};
    // The watermark is the margin: a batch may dip below it, never past it.
    if (free && *free < min_free_bytes_) {
      if (low_space_.empty())
        component_log("store")->error("disk nearly full ({} bytes free): refusing writes",
                                      *free);
      low_space_ = "the disk is nearly full: " + std::to_string(*free) +
                   " bytes free, storage.min_free_bytes is " + std::to_string(min_free_bytes_);
      ++stats_.failures;
      return problem{errc::storage_error,
                     low_space_ + "; nothing was written; free disk space and retry"};
    }
    if (!low_space_.empty()) {
      component_log("store")->info("disk space available again: accepting writes");
      low_space_.clear();
    }
  }
  rocksdb::WriteBatch wb;
  // Feed numbers and the webhook tap's views move as the batch is built;
  // a failed batch is not undone in memory because nothing is committed
  // after it (the refusal above): the numbers and views that RocksDB holds
  // are what the next start loads.
  std::vector<feed_message> feed;
  for (auto& e : batch)
    for (auto& op : e.ops) {
      if (op.kind == write_op::feed)
        add_feed(wb, op, feed);
      else
        add_op(wb, op);
    }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  auto st = db_.db()->Write(wo, &wb);
  if (!st.ok()) {
    if (!feed.empty() && feed_.settled)
      feed_.settled(false);
    ++stats_.failures;
    {
      std::lock_guard lock{mtx_};
      last_error_ = st.ToString();
    }
    auto p = to_error(st, "journal commit");
    component_log("store")->error("{}", p.detail);
    return p;
  }
  ++stats_.commits;
  stats_.bytes += wb.GetDataSize();
  if (!feed.empty()) {
    if (feed_.sink)
      feed_.sink(std::move(feed));
    if (feed_.settled)
      feed_.settled(true);
  }
  return std::nullopt;
}

void journal::add_op(rocksdb::WriteBatch& wb, const write_op& op) {
  switch (op.kind) {
    case write_op::put: wb.Put(db_.family_of(op.key), op.key, op.value); break;
    case write_op::del: wb.Delete(db_.family_of(op.key), op.key); break;
    case write_op::del_range: wb.DeleteRange(db_.family_of(op.key), op.key, op.value); break;
    case write_op::feed: break; // numbered by add_feed
  }
}

// Numbers one feed op (the org's next seq: commit order), stores it as
// F<org><seq> and drops the message that falls out of the window.
void journal::add_feed(rocksdb::WriteBatch& wb, const write_op& op,
                       std::vector<feed_message>& out) {
  feed_message m;
  if (!decode_feed_op_key(op.key, m))
    return;
  m.seq = ++feed_.heads[m.org];
  auto json = std::make_shared<const std::string>(feed_json(m.seq, op.value));
  std::string stored;
  stored.reserve(op.key.size() + json->size());
  stored += op.key; // the routing facts, then the message
  stored += *json;
  wb.Put(keys::feed(m.org, m.seq), stored);
  if (feed_.window > 0 && m.seq > feed_.window)
    wb.Delete(keys::feed(m.org, m.seq - feed_.window));
  m.json = std::move(json);
  if (feed_.tap) {
    std::vector<write_op> extra;
    feed_.tap(m, extra);
    for (auto& x : extra)
      add_op(wb, x);
  }
  out.push_back(std::move(m));
}

} // namespace hotlead
