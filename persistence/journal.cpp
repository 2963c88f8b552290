#include "persistence/journal.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "persistence/log.hpp"
#include "persistence/store.hpp"

namespace hotlead {

journal::journal(store& db, bool sync) : db_(db), sync_(sync) {
  thread_ = std::thread{[this] { run(); }};
}

journal::~journal() {
  stop();
}

void journal::append(std::vector<write_op> ops, callback done) {
  {
    std::lock_guard lock{mtx_};
    if (!stopping_) {
      queue_.push_back({std::move(ops), std::move(done)});
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

std::string journal::last_error() const {
  std::lock_guard lock{mtx_};
  return last_error_;
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
  rocksdb::WriteBatch wb;
  for (auto& e : batch)
    for (auto& op : e.ops) {
      switch (op.kind) {
        case write_op::put: wb.Put(op.key, op.value); break;
        case write_op::del: wb.Delete(op.key); break;
        case write_op::del_range: wb.DeleteRange(op.key, op.value); break;
      }
    }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  // After an I/O error (a full disk) RocksDB refuses further writes with its
  // background error; DB::Resume() is not used: with Debian's RocksDB 7.8 it
  // trips an assertion on the failed WAL writer. A restart recovers.
  auto st = db_.db()->Write(wo, &wb);
  stats_.writes += batch.size();
  if (!st.ok()) {
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
  return std::nullopt;
}

} // namespace hotlead
