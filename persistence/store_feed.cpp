// The change feed's journaled window ('F' keys), read at start-up, and the
// plain reads the webhooks use ('W', 'Y', 'T' keys).
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

namespace {

// Visits keys from where `it` stands while they start with `prefix`,
// forward or backward, until `fn` returns false.
std::optional<problem> walk(rocksdb::Iterator& it, std::string_view prefix, bool back,
                            const std::function<bool(std::string_view, std::string_view)>& fn) {
  for (; it.Valid() && it.key().starts_with(prefix); back ? it.Prev() : it.Next()) {
    auto k = it.key();
    auto v = it.value();
    if (!fn({k.data(), k.size()}, {v.data(), v.size()}))
      break;
  }
  if (!it.status().ok())
    return problem{errc::storage_error, "scan of '" + std::string{prefix.substr(0, 1)} +
                                          "' keys: " + it.status().ToString()};
  return std::nullopt;
}

} // namespace

std::optional<problem> store::visit_tag(
  char tag, std::string_view under,
  const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  std::string prefix(1, tag);
  prefix += under;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(rocksdb::ReadOptions{}, family_of(prefix))};
  it->Seek(prefix);
  return walk(*it, prefix, false, fn);
}

std::optional<problem> store::visit_tag_back(
  char tag, std::string_view under, std::string_view before,
  const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  std::string prefix(1, tag);
  prefix += under;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(rocksdb::ReadOptions{}, family_of(prefix))};
  if (before.empty()) {
    it->SeekForPrev(prefix + std::string(16, '\xff'));
  } else {
    it->SeekForPrev(before);
    if (it->Valid() && it->key() == before)
      it->Prev();
  }
  return walk(*it, prefix, true, fn);
}

std::optional<std::string> store::get(std::string_view key) {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions{}, family_of(key), key, &value);
  if (!st.ok())
    return std::nullopt;
  return value;
}

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
