// The RocksDB key layout, in one place. Every key starts with a one-byte
// tag; ids are big-endian so a prefix scan visits one lead's events in order.
//   'M' name            → meta values (root key hash, format version)
//   'O' org id          → org record          (protocol/codec)
//   'K' key hash (hex)  → API key record      (protocol/codec)
//   'L' lead id         → lead record         (protocol/codec)
//   'R' lead id         → the lead's score state, newer than its 'L' record
//                          (protocol/codec encode_score_state): a re-score
//                          writes it instead of the whole record; the next
//                          write of the record deletes it
//   'E' lead id, seq    → one raw event, JSON (bounded per lead)
//   'D' lead id         → "" : the lead record is behind its events; start-up
//                          replays the events from the record's event_seq on
//                          (the record is rewritten every few events or
//                          seconds, not on every event)
//   'S' org id, version → scoring model version: be64 created_at, then its JSON
//   'A' org id          → the org's active model version (decimal)
//   'P' org id, version → predictive model version: be64 created_at, then its
//                          record (actors/predictive_registry.hpp)
//   'Q' org id          → the org's active predictive setting ("3", "3 4 20")
//   'F' org id, seq     → one change-feed message of the org: its 33-byte
//                          feed_op_key (type, org, lead, totals), then its
//                          JSON (protocol/feed.hpp; the last
//                          stream.replay_window of each org)
//   'W' org id, hook id → a webhook: its JSON with the secret (protocol/webhook)
//   'Y' hook id, id     → one delivery of a webhook: its JSON, a newline, its body
//                          (protocol/webhook encode_delivery)
//   'T' hook id, lead id → "": the lead is hot in the webhook's threshold view
//   'H' lead id, seq    → score history entry: be64 total (hundredths, as
//                          two's complement), then the entry (protocol/codec
//                          encode_history; JSON before; bounded per lead)
// Header-only, no RocksDB: actors build keys for journal writes with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"

namespace hotlead::keys {

using hotlead::get_be64;
using hotlead::put_be64;

inline std::string meta(std::string_view name) {
  return "M" + std::string{name};
}

/// A tag byte and one or two big-endian ids.
inline std::string tagged(char tag, uint64_t a) {
  std::string k(1, tag);
  put_be64(k, a);
  return k;
}

inline std::string tagged(char tag, uint64_t a, uint64_t b) {
  auto k = tagged(tag, a);
  put_be64(k, b);
  return k;
}

inline std::string org(uint64_t id) {
  return tagged('O', id);
}

inline std::string api_key(std::string_view hash_hex) {
  return "K" + std::string{hash_hex};
}

inline std::string lead(uint64_t id) {
  return tagged('L', id);
}

inline std::string score_state(uint64_t id) {
  return tagged('R', id);
}

inline std::string event(uint64_t lead_id, uint64_t seq) {
  return tagged('E', lead_id, seq);
}

inline std::string tail(uint64_t lead_id) {
  return tagged('D', lead_id);
}

inline std::string model(uint64_t org, uint64_t version) {
  return tagged('S', org, version);
}

inline std::string active_model(uint64_t org) {
  return tagged('A', org);
}

inline std::string predictive_model(uint64_t org, uint64_t version) {
  return tagged('P', org, version);
}

inline std::string active_predictive(uint64_t org) {
  return tagged('Q', org);
}

inline std::string feed(uint64_t org, uint64_t seq) {
  return tagged('F', org, seq);
}

inline std::string webhook(uint64_t org, uint64_t hook) {
  return tagged('W', org, hook);
}

inline std::string delivery(uint64_t hook, uint64_t id) {
  return tagged('Y', hook, id);
}

inline std::string hot_lead(uint64_t hook, uint64_t lead_id) {
  return tagged('T', hook, lead_id);
}

/// The first key after every key of `tag` under `a` (for range deletes).
inline std::string tagged_end(char tag, uint64_t a) {
  return tagged(tag, a, UINT64_MAX) + '\xff';
}

inline std::string history(uint64_t lead_id, uint64_t seq) {
  return tagged('H', lead_id, seq);
}

/// The first key of a lead's history entries ('H' and its id).
inline std::string history_prefix(uint64_t lead_id) {
  return tagged('H', lead_id);
}

/// First key after every history entry of a lead.
inline std::string history_end(uint64_t lead_id) {
  return history(lead_id, UINT64_MAX) + '\xff';
}

/// The lead id of an 'L', 'R', 'E', 'D' or 'H' key (the org id of 'S' and 'A').
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
