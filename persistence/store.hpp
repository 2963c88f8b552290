// The RocksDB database of one node: opening, start-up scans (recovery),
// point reads and checkpoints. This folder is the only code that includes
// RocksDB; everything else sees records as bytes or protocol types.
// Thread-safety: RocksDB's DB is thread-safe; scans may run in parallel.
// Writes go through the journal (persistence/journal.hpp), not through here.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"
#include "protocol/lead.hpp"
#include "protocol/org.hpp"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Status;
} // namespace rocksdb

namespace hotlead {

/// Maps a RocksDB status to the project's errors (storage_error + reason).
problem to_error(const rocksdb::Status& st, std::string_view during);

class store {
public:
  /// Opens (creating when missing) the database in `dir`.
  static std::unique_ptr<store> open(const std::string& dir, std::optional<problem>& err);
  ~store();

  store(const store&) = delete;
  store& operator=(const store&) = delete;

  std::optional<std::string> get_meta(std::string_view name);
  std::optional<problem> put_meta(std::string_view name, std::string_view value);

  /// Visits every lead with `threads` parallel scans over the key space;
  /// `fn(thread_index, lead&&)` is called concurrently from those threads.
  /// Returns the number of leads, or a problem (a corrupt record names its key).
  std::optional<problem> scan_leads(size_t threads,
                                    const std::function<void(size_t, lead&&)>& fn,
                                    uint64_t& count);
  std::optional<problem> scan_orgs(const std::function<void(org&&)>& fn);
  std::optional<problem> scan_keys(const std::function<void(api_key&&)>& fn);

  /// Applies one replayed event to a lead (its counters and its engagement
  /// state: the caller knows the scoring model).
  using event_apply = std::function<void(lead&, const event_input&)>;

  /// The stored version of one lead, its event tail replayed: nullopt when
  /// there is none. Used to roll memory back when a write could not be
  /// committed.
  std::optional<lead> get_lead(uint64_t id, const event_apply& apply);

  /// Ids of the leads whose record is behind their events ('D' markers).
  std::optional<problem> scan_tails(const std::function<void(uint64_t)>& fn);

  /// Applies the lead's stored events from l.event_seq on with `apply`, in
  /// order; sets l.unsaved_events to how many, and the lead's score history
  /// position (history_seq, scored_total) from its last stored entry. A gap
  /// or an unreadable event is a problem (the database is corrupt).
  std::optional<problem> replay_tail(lead& l, const event_apply& apply);

  /// Raw events of a lead, oldest first, at most `limit`.
  std::vector<std::string> read_events(uint64_t lead_id, size_t limit);

  /// For each (lead, until) in `leads` (sorted by lead), its stored events
  /// with seq < until, oldest first and parsed, with one iterator (one look
  /// at the memtable); fn is called for leads that have any.
  void visit_events_of(const std::vector<std::pair<uint64_t, uint64_t>>& leads,
                       const std::function<void(uint64_t, std::vector<event_input>&&)>& fn);

  /// A lead's score history entries (JSON), newest first, at most `limit`.
  std::vector<std::string> read_history(uint64_t lead_id, size_t limit);

  struct stored_model {
    uint64_t org = 0;
    uint32_t version = 0;
    millis created_at = 0;
    std::string json;
  };
  /// Every stored scoring model version, by org then version.
  std::optional<problem> scan_models(const std::function<void(stored_model&&)>& fn);
  /// Every org's active model version.
  std::optional<problem> scan_active_models(const std::function<void(uint64_t org, uint32_t)>& fn);
  /// Every stored predictive model version ('P'; `json` is its record), by
  /// org then version.
  std::optional<problem> scan_predictive(const std::function<void(stored_model&&)>& fn);
  /// Every org's active predictive setting ('Q', as stored).
  std::optional<problem> scan_active_predictive(
    const std::function<void(uint64_t org, std::string_view setting)>& fn);

  /// The journaled change feed ('F'), oldest first per org. Messages more than `window` behind their org's
  /// last one (a window made smaller since) are deleted, not visited.
  /// Every key with tag `tag` (and a prefix `under` after it, e.g. an id),
  /// in key order; `fn` returns false to stop. For the tags of families
  /// with a skiplist memtable (webhooks), which may be read while running.
  std::optional<problem> visit_tag(char tag, std::string_view under,
                                  const std::function<bool(std::string_view key,
                                                           std::string_view value)>& fn);

  /// The same keys newest first (descending), from the last one before
  /// `before` (a whole key; empty: from the last one).
  std::optional<problem> visit_tag_back(char tag, std::string_view under, std::string_view before,
                                       const std::function<bool(std::string_view key,
                                                                std::string_view value)>& fn);

  /// One value (of a webhook family key), or nullopt when absent.
  std::optional<std::string> get(std::string_view key);

  std::optional<problem> scan_feed(size_t window,
                                   const std::function<void(feed_message&&)>& fn);

  /// A consistent checkpoint (hard links where possible) in `dir`, which
  /// must not exist yet.
  std::optional<problem> checkpoint(const std::string& dir);

  /// Flushes and compacts every key of both families (bench/gen_leads
  /// --settle: a bulk-loaded database as a server that ran a while has it).
  void compact();

  /// Flushes memtables and syncs the WAL (unless writes have failed: RocksDB
  /// refuses, and Debian's build asserts), then closes. Called once at shutdown.
  void close(bool sync_wal = true);

  rocksdb::DB* db() {
    return db_;
  }

  /// The column family a key is written to ('H' keys: score history).
  rocksdb::ColumnFamilyHandle* family_of(std::string_view key) const;

  /// Bytes free for this database's files (statvfs), or nullopt if unknown.
  std::optional<uint64_t> free_bytes() const;

private:
  /// fn(seq, record) for the lead's stored events from `from` on, oldest
  /// first, until it returns false.
  rocksdb::Status visit_events(uint64_t lead_id, uint64_t from,
                               const std::function<bool(uint64_t seq, std::string_view record)>& fn);

  store(rocksdb::DB* db, std::string dir) : db_(db), dir_(std::move(dir)) {}
  rocksdb::DB* db_;
  std::string dir_;
  rocksdb::ColumnFamilyHandle* history_ = nullptr;
  rocksdb::ColumnFamilyHandle* webhooks_ = nullptr; // 'W', 'Y' and 'T' keys
};

/// Copies a checkpoint into `data_dir`'s database folder (which must be
/// empty or absent) so the next `serve` starts from it.
std::optional<problem> restore_checkpoint(const std::string& checkpoint_dir,
                                          const std::string& db_dir);

} // namespace hotlead
