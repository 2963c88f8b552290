// The change feed's journaled window ('F' keys), read at start-up.
#include <rocksdb/db.h>

#include <memory>
#include <unordered_map>

#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"

namespace hotlead {

namespace {

problem feed_error(const rocksdb::Status& st) {
  return problem{errc::storage_error, "scan of the change feed: " + st.ToString()};
}

} // namespace

std::optional<problem> store::scan_feed(size_t window,
                                        const std::function<void(feed_message&&)>& fn) {
  // Each org's last seq first: what is more than `window` behind it goes.
  std::unordered_map<uint64_t, uint64_t> heads;
  std::vector<feed_message> all;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro)};
  const std::string prefix(1, 'F');
  size_t corrupt = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    std::string_view value{v.data(), v.size()};
    feed_message m;
    if (k.size() != 17 || !decode_feed_op_key(value.substr(0, feed_op_key_size), m)) {
      ++corrupt;
      continue;
    }
    m.org = keys::get_be64({k.data() + 1, 8});
    m.seq = keys::get_be64({k.data() + 9, 8});
    m.json = std::make_shared<const std::string>(value.substr(feed_op_key_size));
    heads[m.org] = m.seq;
    all.push_back(std::move(m));
  }
  if (!it->status().ok())
    return feed_error(it->status());
  if (corrupt > 0)
    component_log("store")->warn("skipped {} unreadable change-feed records", corrupt);
  std::unordered_map<uint64_t, uint64_t> trimmed; // org -> first seq kept
  for (auto& m : all) {
    auto head = heads[m.org];
    if (window > 0 && head >= window && m.seq <= head - window) {
      trimmed[m.org] = head - window + 1;
      continue;
    }
    fn(std::move(m));
  }
  for (auto [org, first] : trimmed) {
    auto st = db_->DeleteRange(rocksdb::WriteOptions{}, db_->DefaultColumnFamily(),
                               keys::feed(org, 0), keys::feed(org, first));
    if (!st.ok())
      return feed_error(st);
  }
  return std::nullopt;
}

} // namespace hotlead
