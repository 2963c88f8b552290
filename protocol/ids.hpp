// Server-made ids: random 64-bit numbers shown as 16 lowercase hex digits.
// Random ids need no counter to recover after a restart and spread evenly
// over the shards. Thread-safe (a generator per thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotlead {

/// A fresh, non-zero random id.
uint64_t new_id();

/// Random bytes as lowercase hex (for API keys); 2*n characters.
std::string random_hex(size_t n_bytes);

std::string id_to_hex(uint64_t id);
void append_id(std::string& out, uint64_t id);

/// Characters of an id as hex.
inline constexpr size_t id_chars = 16;
/// Writes the id at `buf` (id_chars bytes) and returns the end.
char* write_id(char* buf, uint64_t id);

/// Exactly 16 hex digits (either case), non-zero; otherwise nullopt.
std::optional<uint64_t> parse_id(std::string_view text);

} // namespace hotlead
