// A process-wide pool of small, repetitive strings (event types, sources,
// tags, attribute keys) so a lead holds 4-byte symbols instead of strings.
// Thread-safe: symbol_name() takes no lock; intern() takes none for names
// this thread has seen (a per-thread cache) and a mutex for new ones.
// Symbols are never freed; the pool holds at most 16M distinct names (then
// new names intern as symbol 0, ""). Symbol 0 is "".
#pragma once

#include <cstdint>
#include <string_view>

namespace hotlead {

using symbol = uint32_t;

/// The symbol of a name, adding it on first use.
symbol intern(std::string_view name);

/// The name of a symbol; the view stays valid for the life of the process.
std::string_view symbol_name(symbol s);

/// The name as a JSON string literal, quoted and escaped (same lifetime).
std::string_view symbol_json(symbol s);

/// Number of distinct names interned so far (for metrics).
size_t interned_count();

} // namespace hotlead
