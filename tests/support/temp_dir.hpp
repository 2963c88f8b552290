// A fresh temporary folder for one test, removed with everything in it when
// the test ends (also when it fails), so tests can run in parallel and twice.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "protocol/ids.hpp"

namespace hotlead::testing {

struct temp_dir {
  std::filesystem::path path =
    std::filesystem::temp_directory_path() / ("hotlead-test-" + random_hex(8));

  temp_dir() = default;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace hotlead::testing
