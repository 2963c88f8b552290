// The RocksDB key layout, in one place. Every key starts with a one-byte
// tag; ids are big-endian so a prefix scan visits one lead's events in order.
//   'M' name            → meta values (root key hash, format version)
//   'O' org id          → org record          (protocol/codec)
//   'K' key hash (hex)  → API key record      (protocol/codec)
//   'L' lead id         → lead record         (protocol/codec)
//   'E' lead id, seq    → one raw event, JSON (bounded per lead)
//   'D' lead id         → "" : the lead record is behind its events; start-up
//                          replays the events from the record's event_seq on
//                          (the record is rewritten every few events or
//                          seconds, not on every event)
//   'S' org id, version → scoring model version: be64 created_at, then its JSON
//   'A' org id          → the org's active model version (decimal)
//   'H' lead id, seq    → score history entry: be64 total (hundredths, as
//                          two's complement), then its JSON (bounded per lead)
// Header-only, no RocksDB: actors build keys for journal writes with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotlead::keys {

inline void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

inline uint64_t get_be64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

inline std::string meta(std::string_view name) {
  return "M" + std::string{name};
}

inline std::string org(uint64_t id) {
  std::string k{"O"};
  put_be64(k, id);
  return k;
}

inline std::string api_key(std::string_view hash_hex) {
  return "K" + std::string{hash_hex};
}

inline std::string lead(uint64_t id) {
  std::string k{"L"};
  put_be64(k, id);
  return k;
}

inline std::string event(uint64_t lead_id, uint64_t seq) {
  std::string k{"E"};
  put_be64(k, lead_id);
  put_be64(k, seq);
  return k;
}

inline std::string tail(uint64_t lead_id) {
  std::string k{"D"};
  put_be64(k, lead_id);
  return k;
}

inline std::string model(uint64_t org, uint64_t version) {
  std::string k{"S"};
  put_be64(k, org);
  put_be64(k, version);
  return k;
}

inline std::string active_model(uint64_t org) {
  std::string k{"A"};
  put_be64(k, org);
  return k;
}

inline std::string history(uint64_t lead_id, uint64_t seq) {
  std::string k{"H"};
  put_be64(k, lead_id);
  put_be64(k, seq);
  return k;
}

/// First key after every history entry of a lead.
inline std::string history_end(uint64_t lead_id) {
  return history(lead_id, UINT64_MAX) + '\xff';
}

/// The lead id of an 'L', 'E', 'D' or 'H' key (the org id of 'S' and 'A').
inline uint64_t lead_of(std::string_view key) {
  return get_be64(key.substr(1));
}

/// The sequence number of an 'E' or 'H' key (the version of an 'S' key).
inline uint64_t event_seq_of(std::string_view key) {
  return get_be64(key.substr(9));
}

/// First key after every event of a lead (for range deletes).
inline std::string events_end(uint64_t lead_id) {
  return event(lead_id, UINT64_MAX) + '\xff';
}

} // namespace hotlead::keys
