#include "protocol/intern.hpp"

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace hotlead {

namespace {

struct pool {
  std::shared_mutex mtx;
  std::deque<std::string> names{std::string{}}; // deque: stable addresses
  std::unordered_map<std::string_view, symbol> index{{std::string_view{}, 0}};
};

pool& the_pool() {
  static pool p;
  return p;
}

} // namespace

symbol intern(std::string_view name) {
  auto& p = the_pool();
  {
    std::shared_lock lock{p.mtx};
    if (auto i = p.index.find(name); i != p.index.end())
      return i->second;
  }
  std::unique_lock lock{p.mtx};
  if (auto i = p.index.find(name); i != p.index.end())
    return i->second;
  p.names.emplace_back(name);
  auto s = static_cast<symbol>(p.names.size() - 1);
  p.index.emplace(p.names.back(), s);
  return s;
}

std::string_view symbol_name(symbol s) {
  auto& p = the_pool();
  std::shared_lock lock{p.mtx};
  return s < p.names.size() ? std::string_view{p.names[s]} : std::string_view{};
}

size_t interned_count() {
  auto& p = the_pool();
  std::shared_lock lock{p.mtx};
  return p.names.size();
}

} // namespace hotlead
