// The WAL written over zeros (persistence/wal_file.hpp) against a real
// RocksDB: a copy of the data folder taken while the database is open is
// what a crash leaves on disk; it must recover every synced write, also with
// a torn record after them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>

#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "persistence/wal_file.hpp"
#include "tests/support/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace hotlead;
namespace fs = std::filesystem;

namespace {

using testing::open_store;
using testing::temp_dir;

std::vector<fs::path> wal_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator{dir})
    if (e.path().extension() == ".log")
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

std::string value_of(int i) {
  // ~100 KB each, distinct, and not compressible to nothing.
  std::string v(100'000, 'a');
  for (size_t k = 0; k < v.size(); k += 7)
    v[k] = static_cast<char>('a' + (i * 31 + k) % 26);
  return v;
}

/// Commits `n` meta values through a syncing journal, `per_commit` at a time.
void write_values(store& db, int n, int per_commit) {
  journal jr{db, true};
  for (int i = 0; i < n; i += per_commit) {
    std::vector<std::future<std::optional<problem>>> acks;
    for (int k = i; k < std::min(n, i + per_commit); ++k) {
      auto pr = std::make_shared<std::promise<std::optional<problem>>>();
      acks.push_back(pr->get_future());
      jr.append({write_op{write_op::put, keys::meta("v" + std::to_string(k)), value_of(k)}},
                [pr](const std::optional<problem>& e) { pr->set_value(e); });
    }
    for (auto& a : acks)
      REQUIRE_FALSE(a.get());
  }
}

void check_values(const fs::path& dir, int n) {
  auto db = open_store(dir);
  int found = 0;
  for (int k = 0; k < n; ++k)
    found += db->get_meta("v" + std::to_string(k)) == value_of(k);
  CHECK(found == n);
}

} // namespace

TEST_CASE("the WAL is written over zeros, and a crash image of it recovers every synced write") {
  temp_dir dir;
  fs::path live = dir.path / "live";
  constexpr int n = 100; // ~10 MB: the WAL is zero-filled ahead ten times
  auto db = open_store(live);
  write_values(*db, n, 10);

  auto wals = wal_files(live);
  REQUIRE(wals.size() == 1);
  auto size = fs::file_size(wals[0]);
  CHECK(size % wal_zero_chunk == 0);
  CHECK(size >= 10 * wal_zero_chunk);
  std::string bytes = read_file(wals[0]);
  auto last = bytes.find_last_not_of('\0');
  REQUIRE(last != std::string::npos);
  CHECK(last > 10 * 100'000u);
  CHECK(bytes.size() - last > 1); // a zero tail follows the data

  SUBCASE("as it is") {
    fs::path image = dir.path / "image";
    fs::copy(live, image, fs::copy_options::recursive);
    check_values(image, n);
  }
  SUBCASE("with a torn record after the last synced one") {
    fs::path image = dir.path / "image";
    fs::copy(live, image, fs::copy_options::recursive);
    // A record header (bad checksum, length 5000, full type) and part of its
    // body where the next write would have gone.
    std::string torn = "\x12\x34\x56\x78\x88\x13\x01" + std::string(1000, 'x');
    std::fstream f{image / wals[0].filename(), std::ios::binary | std::ios::in | std::ios::out};
    f.seekp(static_cast<std::streamoff>(last + 1));
    f.write(torn.data(), static_cast<std::streamsize>(torn.size()));
    f.close();
    check_values(image, n);
  }
  SUBCASE("a clean close leaves no zeros behind") {
    db->close();
    db.reset();
    for (auto& w : wal_files(live)) {
      auto b = read_file(w);
      CHECK((b.empty() || b.back() != '\0')); // the data ends with a value's letter
    }
    check_values(live, n);
  }
}
