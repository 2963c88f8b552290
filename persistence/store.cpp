#include "persistence/store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include <sys/statvfs.h>

#include <filesystem>
#include <thread>

#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/wal_file.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"

namespace hotlead {

namespace fs = std::filesystem;

problem to_error(const rocksdb::Status& st, std::string_view during) {
  std::string detail = "storage failed during " + std::string{during} + ": " + st.ToString();
  if (st.IsNoSpace())
    detail += " (the disk is full: free space, then retry)";
  return {errc::storage_error, std::move(detail)};
}

std::unique_ptr<store> store::open(const std::string& dir, std::optional<problem>& err) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.env = zeroed_wal_env(); // the WAL overwrites zeros: persistence/wal_file.hpp
  opts.IncreaseParallelism(2);
  opts.OptimizeLevelStyleCompaction();
  opts.max_open_files = 512;
  opts.keep_log_file_num = 4;
  // Memtable: an unsorted vector, sorted once when it is flushed or read.
  // The journal only appends, and the server never reads RocksDB while it
  // runs except at start-up (recovery scans) and to roll back a failed
  // write, so an insert can be a push_back. Debian's RocksDB is built with
  // assertions on, and the skiplist memtables check every insert with a
  // second full search (HashSkipListRep::Insert asserts !Contains): with the
  // hash skiplist that was ~11% of a durable write's CPU, with the default
  // skiplist ~20% (docs/PERFORMANCE.md). Cost: a point read (Get) of the
  // live memtable copies and sorts it (tens of ms at 128 MiB), which only
  // the rare roll-back pays.
  opts.memtable_factory.reset(new rocksdb::VectorRepFactory(1 << 16));
  opts.allow_concurrent_memtable_write = false;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 16 * 1024;
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Score history ('H' keys) has a column family of its own with RocksDB's
  // skiplist memtable: it is read while the server runs (GET .../score/
  // history and the tail replay), which the vector memtable makes costly.
  // Its memtables are small (16 MiB, ~250k entries): an insert searches a
  // skiplist that fits the CPU's caches. With 128 MiB (~2M entries) the
  // search's cache misses were the journal's largest cost when a bulk
  // import or a re-score writes a million entries (docs/PERFORMANCE.md).
  opts.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions history_opts{opts};
  history_opts.memtable_factory.reset(new rocksdb::SkipListFactory);
  history_opts.write_buffer_size = 16 << 20;
  // Webhooks, their deliveries and hot views ('W', 'Y', 'T' keys) likewise:
  // the sender reads a delivery before each attempt.
  rocksdb::ColumnFamilyOptions webhook_opts{history_opts};
  webhook_opts.write_buffer_size = 8 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> families{
    {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{opts}},
    {"history", history_opts},
    {"webhooks", webhook_opts}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto st = rocksdb::DB::Open(rocksdb::DBOptions{opts}, dir, families, &handles, &db);
  if (!st.ok()) {
    err = to_error(st, "open of " + dir);
    if (st.IsIOError() && st.ToString().find("lock") != std::string::npos)
      err->detail += " (is another hotlead running on this data directory?)";
    return nullptr;
  }
  auto s = std::unique_ptr<store>{new store{db, dir}};
  s->history_ = handles[1];
  s->webhooks_ = handles[2];
  db->DestroyColumnFamilyHandle(handles[0]); // the default family's handle is the DB's own
  return s;
}

rocksdb::ColumnFamilyHandle* store::family_of(std::string_view key) const {
  if (key.empty())
    return db_->DefaultColumnFamily();
  if (key[0] == 'H')
    return history_;
  if (key[0] == 'W' || key[0] == 'Y' || key[0] == 'T')
    return webhooks_;
  return db_->DefaultColumnFamily();
}

std::optional<uint64_t> store::free_bytes() const {
  struct statvfs st;
  if (statvfs(dir_.c_str(), &st) != 0)
    return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

void store::compact() {
  rocksdb::CompactRangeOptions co;
  db_->CompactRange(co, nullptr, nullptr);
  db_->CompactRange(co, history_, nullptr, nullptr);
  db_->CompactRange(co, webhooks_, nullptr, nullptr);
}

store::~store() {
  close();
}

void store::close(bool sync_wal) {
  if (!db_)
    return;
  if (sync_wal) {
    // A clean stop flushes memtables so the next start need not replay the WAL.
    rocksdb::FlushOptions fo;
    db_->Flush(fo);
    db_->Flush(fo, history_);
    db_->Flush(fo, webhooks_);
    db_->FlushWAL(true);
  }
  for (auto** cf : {&history_, &webhooks_}) {
    if (*cf)
      db_->DestroyColumnFamilyHandle(*cf);
    *cf = nullptr;
  }
  db_->Close();
  delete db_;
  db_ = nullptr;
}

std::optional<std::string> store::get_meta(std::string_view name) {
  return get(keys::meta(name));
}

std::optional<problem> store::put_meta(std::string_view name, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto st = db_->Put(wo, keys::meta(name), rocksdb::Slice{value.data(), value.size()});
  if (!st.ok())
    return to_error(st, "write of meta " + std::string{name});
  return std::nullopt;
}

std::optional<problem> store::scan_leads(size_t threads,
                                         const std::function<void(size_t, lead&&)>& fn,
                                         uint64_t& count) {
  threads = std::max<size_t>(threads, 1);
  std::vector<std::optional<problem>> errors(threads);
  std::vector<uint64_t> counts(threads, 0);
  auto scan = [&](size_t t) {
    // Thread t scans lead ids whose first byte lies in [lo, hi), and beside
    // them the 'R' records of the same ids (a merge: both are in id order).
    unsigned lo = static_cast<unsigned>(256 * t / threads);
    unsigned hi = static_cast<unsigned>(256 * (t + 1) / threads);
    auto bound = [&](char tag, unsigned b) {
      std::string k(1, tag);
      if (b < 256)
        k += static_cast<char>(b);
      else
        ++k[0]; // the first key after every key of this tag
      return k;
    };
    std::string begin = bound('L', lo), end = bound('L', hi);
    std::string r_begin = bound('R', lo), r_end = bound('R', hi);
    rocksdb::ReadOptions ro;
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;
    rocksdb::Slice upper{end}, r_upper{r_end};
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro)};
    auto r_ro = ro;
    r_ro.iterate_upper_bound = &r_upper;
    std::unique_ptr<rocksdb::Iterator> rit{db_->NewIterator(r_ro)};
    rit->Seek(r_begin);
    auto corrupt = [&](const rocksdb::Slice& key) {
      errors[t] = problem{errc::storage_error, "corrupt record " + key.ToString(true) +
                                                 "; restore from a snapshot (hotlead restore)"};
    };
    for (it->Seek(begin); it->Valid(); it->Next()) {
      lead l;
      auto v = it->value();
      if (!decode(std::string_view{v.data(), v.size()}, l))
        return corrupt(it->key());
      while (rit->Valid() && keys::lead_of({rit->key().data(), rit->key().size()}) < l.id)
        rit->Next(); // a score record without its lead: a delete of both is pending
      if (rit->Valid() && keys::lead_of({rit->key().data(), rit->key().size()}) == l.id) {
        auto sv = rit->value();
        if (!decode_score_state({sv.data(), sv.size()}, l))
          return corrupt(rit->key());
        l.score_apart = true;
      }
      fn(t, std::move(l));
      ++counts[t];
    }
    if (!it->status().ok())
      errors[t] = to_error(it->status(), "recovery scan");
    else if (!rit->status().ok())
      errors[t] = to_error(rit->status(), "recovery scan of score records");
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(scan, t);
  scan(0);
  for (auto& th : pool)
    th.join();
  count = 0;
  for (auto c : counts)
    count += c;
  for (auto& e : errors)
    if (e)
      return e;
  return std::nullopt;
}

namespace {

template <class T>
std::optional<problem> scan_prefix(rocksdb::DB* db, char tag, const std::function<void(T&&)>& fn,
                                   std::string_view what) {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro)};
  std::string prefix(1, tag);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    T rec;
    auto v = it->value();
    if (!decode(std::string_view{v.data(), v.size()}, rec))
      return problem{errc::storage_error, "corrupt " + std::string{what} + " record " +
                                            it->key().ToString(true)};
    fn(std::move(rec));
  }
  if (!it->status().ok())
    return to_error(it->status(), std::string{what} + " scan");
  return std::nullopt;
}

} // namespace

std::optional<problem> store::scan_orgs(const std::function<void(org&&)>& fn) {
  return scan_prefix<org>(db_, 'O', fn, "org");
}

std::optional<problem> store::scan_keys(const std::function<void(api_key&&)>& fn) {
  return scan_prefix<api_key>(db_, 'K', fn, "api key");
}

std::optional<lead> store::get_lead(uint64_t id, const event_apply& apply) {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions{}, keys::lead(id), &value);
  lead l;
  if (!st.ok() || !decode(value, l))
    return std::nullopt;
  if (db_->Get(rocksdb::ReadOptions{}, keys::score_state(id), &value).ok()) {
    if (!decode_score_state(value, l)) // the record's own score state stands
      component_log("store")->error("corrupt score record of lead {}", id_to_hex(id));
    l.score_apart = true; // the next write of the record deletes it
  }
  if (auto p = replay_tail(l, apply)) // finds nothing when the record is current
    component_log("store")->error("{}", p->detail);
  return l;
}

std::optional<problem> store::scan_tails(const std::function<void(uint64_t)>& fn) {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro)};
  for (it->Seek("D"); it->Valid() && it->key().starts_with("D"); it->Next())
    fn(keys::lead_of(std::string_view{it->key().data(), it->key().size()}));
  if (!it->status().ok())
    return to_error(it->status(), "scan of lead tails");
  return std::nullopt;
}

rocksdb::Status store::visit_events(
  uint64_t lead_id, uint64_t from,
  const std::function<bool(uint64_t seq, std::string_view record)>& fn) {
  auto end = keys::events_end(lead_id);
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper{end};
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro)};
  for (it->Seek(keys::event(lead_id, from)); it->Valid(); it->Next()) {
    auto k = it->key(), v = it->value();
    if (!fn(keys::event_seq_of(std::string_view{k.data(), k.size()}),
            std::string_view{v.data(), v.size()}))
      break;
  }
  return it->status();
}

std::optional<problem> store::replay_tail(lead& l, const event_apply& apply) {
  uint64_t replayed = 0;
  std::optional<problem> err;
  auto st = visit_events(l.id, l.event_seq, [&](uint64_t seq, std::string_view record) {
    event_input ev;
    if (seq != l.event_seq)
      err = problem{errc::storage_error, "lead " + id_to_hex(l.id) + " misses event " +
                                           std::to_string(l.event_seq) + " (found " +
                                           std::to_string(seq) +
                                           "); restore from a snapshot (hotlead restore)"};
    else if (auto p = parse_event_record(record, ev))
      err = problem{errc::storage_error, "corrupt event " + std::to_string(seq) + " of lead " +
                                           id_to_hex(l.id) + " (" + p->detail +
                                           "); restore from a snapshot (hotlead restore)"};
    if (err)
      return false;
    apply(l, ev);
    ++replayed;
    return true;
  });
  if (err)
    return err;
  if (!st.ok())
    return to_error(st, "replay of a lead's events");
  l.unsaved_events = static_cast<uint16_t>(std::min<uint64_t>(replayed, UINT16_MAX));
  if (replayed > 0) { // the tail's events wrote history entries the record does not know of
    auto end = keys::history_end(l.id);
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro, history_)};
    it->SeekForPrev(end);
    if (it->Valid() && it->key().starts_with(keys::history_prefix(l.id))) {
      auto k = it->key();
      auto v = it->value();
      l.history_seq = static_cast<uint32_t>(keys::event_seq_of({k.data(), k.size()}) + 1);
      l.scored_total = static_cast<int64_t>(keys::get_be64({v.data(), v.size()}));
    }
  }
  return std::nullopt;
}

void store::visit_events_of(
  const std::vector<std::pair<uint64_t, uint64_t>>& leads,
  const std::function<void(uint64_t, std::vector<event_input>&&)>& fn) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro)};
  for (auto [id, until] : leads) {
    std::vector<event_input> evs;
    auto end = keys::events_end(id);
    for (it->Seek(keys::event(id, 0)); it->Valid(); it->Next()) {
      auto k = it->key();
      std::string_view key{k.data(), k.size()};
      if (key >= end || keys::event_seq_of(key) >= until)
        break;
      event_input ev;
      auto v = it->value();
      if (!parse_event_record({v.data(), v.size()}, ev))
        evs.push_back(std::move(ev));
    }
    if (!evs.empty())
      fn(id, std::move(evs));
  }
}

std::vector<std::string> store::read_history(uint64_t lead_id, size_t limit) {
  std::vector<std::string> out;
  auto first = keys::history(lead_id, 0), end = keys::history_end(lead_id);
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower{first};
  ro.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro, history_)};
  for (it->SeekForPrev(end); it->Valid() && out.size() < limit; it->Prev()) {
    auto v = it->value();
    std::string json;
    if (v.size() > 8 && history_json({v.data() + 8, v.size() - 8}, json))
      out.push_back(std::move(json));
    else
      component_log("store")->error("corrupt score history entry {} of lead {} (skipped)",
                                    keys::event_seq_of({it->key().data(), it->key().size()}),
                                    id_to_hex(lead_id));
  }
  return out;
}

namespace {

// Visits every record of a one-byte tag.
template <class F>
std::optional<problem> scan_tag(rocksdb::DB& db, char tag, std::string_view what, F&& fn) {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{db.NewIterator(ro)};
  std::string prefix(1, tag);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    if (auto p = fn(std::string_view{k.data(), k.size()}, std::string_view{v.data(), v.size()}))
      return p;
  }
  if (!it->status().ok())
    return to_error(it->status(), "scan of " + std::string{what});
  return std::nullopt;
}

// 'S' and 'P': org and version in the key, be64 created_at and the text in the value.
std::optional<problem> scan_versions(rocksdb::DB& db, char tag, std::string_view what,
                                     const std::function<void(store::stored_model&&)>& fn) {
  return scan_tag(db, tag, what, [&](std::string_view key, std::string_view value)
                                   -> std::optional<problem> {
    if (key.size() != 17 || value.size() < 8)
      return problem{errc::storage_error, "corrupt " + std::string{what} +
                                            " record; restore from a snapshot (hotlead restore)"};
    fn(store::stored_model{keys::get_be64(key.substr(1)),
                           static_cast<uint32_t>(keys::get_be64(key.substr(9))),
                           static_cast<millis>(keys::get_be64(value)),
                           std::string{value.substr(8)}});
    return std::nullopt;
  });
}

} // namespace

std::optional<problem> store::scan_models(const std::function<void(stored_model&&)>& fn) {
  return scan_versions(*db_, 'S', "scoring model", fn);
}

std::optional<problem> store::scan_active_models(
  const std::function<void(uint64_t org, uint32_t)>& fn) {
  return scan_tag(*db_, 'A', "active scoring model",
                  [&](std::string_view key, std::string_view value) -> std::optional<problem> {
                    fn(keys::get_be64(key.substr(1)),
                       static_cast<uint32_t>(std::strtoul(std::string{value}.c_str(), nullptr, 10)));
                    return std::nullopt;
                  });
}

std::optional<problem> store::scan_predictive(const std::function<void(stored_model&&)>& fn) {
  return scan_versions(*db_, 'P', "predictive model", fn);
}

std::optional<problem> store::scan_active_predictive(
  const std::function<void(uint64_t org, std::string_view setting)>& fn) {
  return scan_tag(*db_, 'Q', "active predictive model",
                  [&](std::string_view key, std::string_view value) -> std::optional<problem> {
                    fn(keys::get_be64(key.substr(1)), value);
                    return std::nullopt;
                  });
}

std::vector<std::string> store::read_events(uint64_t lead_id, size_t limit) {
  std::vector<std::string> out;
  if (limit > 0)
    visit_events(lead_id, 0, [&](uint64_t, std::string_view record) {
      out.emplace_back(record);
      return out.size() < limit;
    });
  return out;
}

std::optional<problem> store::checkpoint(const std::string& dir) {
  if (fs::exists(dir))
    return problem{errc::invalid_request, "snapshot folder " + dir + " exists already"};
  std::error_code ec;
  fs::create_directories(fs::path{dir}.parent_path(), ec);
  rocksdb::Checkpoint* cp = nullptr;
  auto st = rocksdb::Checkpoint::Create(db_, &cp);
  if (!st.ok())
    return to_error(st, "checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> guard{cp};
  st = cp->CreateCheckpoint(dir);
  if (!st.ok())
    return to_error(st, "checkpoint into " + dir);
  return std::nullopt;
}

std::optional<problem> restore_checkpoint(const std::string& checkpoint_dir,
                                          const std::string& db_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path{checkpoint_dir} / "CURRENT"))
    return problem{errc::invalid_request,
                   checkpoint_dir + " is not a hotlead snapshot (no CURRENT file)"};
  if (fs::exists(db_dir) && !fs::is_empty(db_dir))
    return problem{errc::invalid_request,
                   db_dir + " is not empty; restore into a fresh data directory or pass --force"};
  fs::create_directories(db_dir, ec);
  fs::copy(checkpoint_dir, db_dir, fs::copy_options::recursive, ec);
  if (ec)
    return problem{errc::storage_error, "copy of " + checkpoint_dir + " failed: " + ec.message()};
  return std::nullopt;
}

} // namespace hotlead
