// A process-wide pool of small, repetitive strings (event types, sources,
// tags, attribute keys) so a lead holds 4-byte symbols instead of strings.
// Thread-safe: lookups take a shared lock, new names an exclusive one.
// Symbols are never freed; the pool is bounded by the number of distinct
// names, which validation keeps small per lead. Symbol 0 is "".
#pragma once

#include <cstdint>
#include <string_view>

namespace hotlead {

using symbol = uint32_t;

/// The symbol of a name, adding it on first use.
symbol intern(std::string_view name);

/// The name of a symbol; the view stays valid for the life of the process.
std::string_view symbol_name(symbol s);

/// Number of distinct names interned so far (for metrics).
size_t interned_count();

} // namespace hotlead
