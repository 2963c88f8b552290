#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "protocol/intern.hpp"

using namespace hotlead;

TEST_CASE("interning gives one stable symbol per name, across threads") {
  CHECK(intern("") == 0);
  CHECK(symbol_name(0).empty());
  auto a = intern("page_view");
  CHECK(intern(std::string{"page_"} + "view") == a);
  CHECK(symbol_name(a) == "page_view");
  std::vector<std::vector<symbol>> seen(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t)
    threads.emplace_back([t, &seen] {
      for (int i = 0; i < 2000; ++i)
        seen[t].push_back(intern("name-" + std::to_string(i)));
    });
  for (auto& th : threads)
    th.join();
  for (int i = 0; i < 2000; ++i) {
    for (size_t t = 1; t < seen.size(); ++t)
      CHECK(seen[t][i] == seen[0][i]);
    CHECK(symbol_name(seen[0][i]) == "name-" + std::to_string(i));
  }
}
