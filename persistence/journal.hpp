// Group commit. Shards hand their writes to the journal; one thread drains
// everything queued, writes it to RocksDB as one WriteBatch (fsynced in
// `sync` durability, WAL-written in `async`), then runs each write's
// callback. While a commit is in flight new writes queue up, so the batch
// grows with load and fsyncs per write fall: the classic group commit.
// Thread-safety: append() may be called from any thread; callbacks run on
// the journal thread and must be short (they send a CAF message).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace hotlead {

class store;

struct write_op {
  // feed: a change-feed message (protocol/feed.hpp): key from feed_op_key,
  // value its JSON members; the journal numbers, stores and publishes it.
  enum kind_t : uint8_t { put, del, del_range, feed };
  kind_t kind = put;
  std::string key;
  std::string value; // the value of a put; the end key of a del_range
};

/// Where numbered feed messages go once their batch is durable (the
/// journal thread calls it, before the batch's callbacks), with the
/// journaled window and each org's last sequence number so far.
struct feed_setup {
  size_t window = 10000;
  std::unordered_map<uint64_t, uint64_t> heads; // org -> last seq stored
  std::function<void(std::vector<feed_message>&&)> sink;
  /// Sees each message as it is numbered, while its batch is built, and
  /// may add writes to the same batch (the webhook outbox: a delivery is
  /// durable exactly when its change is).
  std::function<void(const feed_message&, std::vector<write_op>&)> tap = nullptr;
  /// After a batch that carried messages: true once durable (after sink),
  /// false when it failed (what tap added was not written).
  std::function<void(bool durable)> settled = nullptr;
};

struct journal_stats {
  std::atomic<uint64_t> commits{0}; // WriteBatches written
  std::atomic<uint64_t> writes{0};  // client writes committed or refused
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> failures{0};
};

class journal {
public:
  using callback = std::function<void(const std::optional<problem>&)>;

  /// `min_free_bytes`: commits are refused (storage_error) while less disk
  /// space than this is free, so RocksDB never meets a full disk (its WAL
  /// cannot recover from ENOSPC); they succeed again once space is freed.
  journal(store& db, bool sync, uint64_t min_free_bytes = 0);
  ~journal();

  /// Queues one atomic write; `done` runs once it is durable (or failed).
  /// `writes`: how many client writes it carries (a burst of events is one
  /// append), for the writes counter.
  void append(std::vector<write_op> ops, callback done, size_t writes = 1);

  /// Numbers feed ops from `heads` on and hands them to `sink`; set once
  /// before the first feed op is appended (feed ops before it are numbered
  /// from 1 and go nowhere).
  void set_feed(feed_setup f);

  /// Commits what is queued, then stops the thread. Idempotent.
  void stop();

  /// Why writes are being refused now, or "" when they are not. After an
  /// I/O error from RocksDB writes are refused until a restart; below the
  /// free-space watermark, until space is freed.
  std::string last_error() const;

  const journal_stats& stats() const {
    return stats_;
  }

private:
  struct entry {
    std::vector<write_op> ops;
    callback done;
    size_t writes;
  };

  void run();
  std::optional<problem> commit(std::vector<entry>& batch);
  void add_feed(rocksdb::WriteBatch& wb, const write_op& op, std::vector<feed_message>& out);
  void add_op(rocksdb::WriteBatch& wb, const write_op& op);

  store& db_;
  bool sync_;
  uint64_t min_free_bytes_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<entry> queue_;
  bool stopping_ = false;
  std::string last_error_; // a RocksDB I/O error: latched until restart
  std::string low_space_;  // the watermark is crossed: cleared when space returns
  feed_setup feed_;        // heads: journal thread only once set
  journal_stats stats_;
  std::thread thread_;
};

} // namespace hotlead
