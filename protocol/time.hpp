// Wall-clock time as milliseconds since the Unix epoch, and its ISO 8601
// text form ("2026-11-22T03:04:05.123Z"). Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotlead {

using millis = int64_t;

/// Milliseconds since the epoch, now.
millis now_ms();

/// "YYYY-MM-DDTHH:MM:SS.mmmZ" (always UTC, always milliseconds).
std::string format_time(millis t);
void append_time(std::string& out, millis t);

/// Characters of a formatted time ("2026-01-31T12:00:00.000Z").
inline constexpr size_t time_chars = 24;
/// Writes the time at `buf` (time_chars bytes) and returns the end.
char* write_time(char* buf, millis t);

/// Parses RFC 3339 / ISO 8601 date-times: "2026-11-22T03:04:05Z",
/// with optional fraction and a "Z" or "+hh:mm" offset, or a date alone
/// ("2026-11-22", midnight UTC). nullopt when malformed or out of range.
std::optional<millis> parse_time(std::string_view text);

} // namespace hotlead
