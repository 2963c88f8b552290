// hotlead-wsfanout's reading of the change feed's messages (docs/API.md,
// "Real-time"): the few fields its checks need, found by scanning the text
// instead of parsing the JSON. A thousand subscribers receive every message,
// so the client's cost per message decides how many it can take on the same
// 2 cores as the server. The server writes "seq" first and "type" second in
// a feed message and "type" first in an ack, gap or error, so the first
// occurrence of each key is the top-level one. Pure functions: any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace hotlead::bench {

struct ws_message {
  std::string_view type; // "lead.updated", "subscribed", "gap", ...
  uint64_t seq = 0;      // 0: the message has none
  uint64_t lead = 0;     // lead_id as a number; 0: none or malformed
};

/// The characters of the string value of `key` ("\"type\":\""), without
/// its quotes; empty when absent. Feed values hold no escaped quotes.
inline std::string_view string_after(std::string_view text, std::string_view key) {
  auto p = text.find(key);
  if (p == std::string_view::npos)
    return {};
  p += key.size();
  auto end = text.find('"', p);
  return end == std::string_view::npos ? std::string_view{} : text.substr(p, end - p);
}

/// The unsigned number after `key` ("\"seq\":"); 0 when absent.
inline uint64_t number_after(std::string_view text, std::string_view key) {
  auto p = text.find(key);
  if (p == std::string_view::npos)
    return 0;
  uint64_t n = 0;
  for (p += key.size(); p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p)
    n = n * 10 + static_cast<uint64_t>(text[p] - '0');
  return n;
}

/// A lead id (16 hex digits) as a number; 0 for anything else.
inline uint64_t parse_hex_id(std::string_view s) {
  if (s.size() != 16)
    return 0;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else
      return 0;
    v = v << 4 | d;
  }
  return v;
}

inline ws_message scan_message(std::string_view text) {
  ws_message m;
  m.type = string_after(text, "\"type\":\"");
  m.seq = number_after(text, "\"seq\":");
  m.lead = parse_hex_id(string_after(text, "\"lead_id\":\""));
  return m;
}

inline bool is_feed_type(std::string_view type) {
  return type == "lead.updated" || type == "lead.created" || type == "lead.deleted";
}

} // namespace hotlead::bench
