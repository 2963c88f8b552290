// Opening a real RocksDB store in a test's folder; the test fails with the
// reason when it cannot.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>

#include "persistence/store.hpp"

namespace hotlead::testing {

inline std::unique_ptr<store> open_store(const std::filesystem::path& p) {
  std::optional<problem> err;
  auto db = store::open(p.string(), err);
  REQUIRE_MESSAGE(db, (err ? err->detail : ""));
  return db;
}

} // namespace hotlead::testing
