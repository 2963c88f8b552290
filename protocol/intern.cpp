#include "protocol/intern.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "protocol/json_out.hpp"

namespace hotlead {

namespace {

// Names live in fixed chunks that never move, published once: readers of
// symbol_name() take no lock (a symbol is only ever handed out after its
// name is in place, and reaches other threads through a message or a lock).
constexpr size_t chunk_bits = 12;
constexpr size_t chunk_size = size_t{1} << chunk_bits;
constexpr size_t max_chunks = 4096; // 16M distinct names

// A name and its JSON string literal (quoted and escaped), which the JSON
// writer copies as is: a lead's tags, attribute keys, source and event
// types need no escape check on every read.
struct entry {
  std::string name, json;
};

struct pool {
  std::mutex mtx; // writers only
  std::array<std::atomic<entry*>, max_chunks> chunks{};
  std::unordered_map<std::string_view, symbol> index; // under mtx
  size_t size = 0;                                    // under mtx

  pool() {
    add({}); // symbol 0 is ""
  }

  symbol add(std::string_view name) {
    auto chunk = size >> chunk_bits;
    if (chunk >= max_chunks)
      return 0; // pool full: the name reads as "" rather than growing forever
    auto* c = chunks[chunk].load(std::memory_order_relaxed);
    if (!c) {
      c = new entry[chunk_size];
      chunks[chunk].store(c, std::memory_order_release);
    }
    auto& slot = c[size & (chunk_size - 1)];
    slot.name.assign(name);
    append_json_string(slot.json, name);
    auto s = static_cast<symbol>(size++);
    index.emplace(slot.name, s);
    return s;
  }
};

pool& the_pool() {
  static pool p;
  return p;
}

} // namespace

symbol intern(std::string_view name) {
  // Per-thread cache: after warm-up, interning takes no lock at all.
  thread_local std::unordered_map<std::string_view, symbol> cache;
  if (auto i = cache.find(name); i != cache.end())
    return i->second;
  auto& p = the_pool();
  std::lock_guard lock{p.mtx};
  auto i = p.index.find(name);
  if (i == p.index.end()) {
    if (p.add(name) == 0)
      return 0; // pool full
    i = p.index.find(name);
  }
  cache.emplace(i->first, i->second); // the key views the pool's stable copy
  return i->second;
}

namespace {

// The entry of a symbol; null for one past the pool (never handed out).
const entry* entry_of(symbol s) {
  auto* c = the_pool().chunks[s >> chunk_bits].load(std::memory_order_acquire);
  return c ? &c[s & (chunk_size - 1)] : nullptr;
}

} // namespace

std::string_view symbol_name(symbol s) {
  auto* e = entry_of(s);
  return e ? std::string_view{e->name} : std::string_view{};
}

std::string_view symbol_json(symbol s) {
  auto* e = entry_of(s);
  return e ? std::string_view{e->json} : std::string_view{"\"\""};
}

size_t interned_count() {
  auto& p = the_pool();
  std::lock_guard lock{p.mtx};
  return p.size;
}

} // namespace hotlead
