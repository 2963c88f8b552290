// Binary encoding of leads, orgs and API keys for RocksDB values: a version
// byte, then varints and length-prefixed strings. Interned symbols are stored
// as their names so the on-disk form does not depend on a process's pool.
// Decoding validates every length and returns false on a corrupt record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/lead.hpp"
#include "protocol/org.hpp"

namespace hotlead {

enum class score_cause : uint8_t; // protocol/score.hpp
struct score;

void encode(std::string& out, const lead& l);
bool decode(std::string_view in, lead& l);

void encode(std::string& out, const org& o);
bool decode(std::string_view in, org& o);

void encode(std::string& out, const api_key& k);
bool decode(std::string_view in, api_key& k);

/// A lead's score state alone (an 'R' record, persistence/keys.hpp): the
/// event_seq it was written at, model_version, history_seq, scored_total
/// and the engagement state; a re-score stores it instead of the whole
/// lead record. decode_score_state overlays it on `l` and is false when it
/// is corrupt or was written at another event_seq than `l`'s.
void encode_score_state(std::string& out, const lead& l);
bool decode_score_state(std::string_view in, lead& l);

/// A score history entry as stored (an 'H' value after its be64 total):
/// what write_history_entry writes as JSON, in ~35 bytes instead of ~190.
void encode_history(std::string& out, millis at, score_cause cause, std::string_view detail,
                    const score& s, int64_t delta, uint32_t version);
/// Appends the JSON of a stored entry (write_history_entry; entries
/// stored as JSON before the binary form are copied); false if corrupt.
bool history_json(std::string_view stored, std::string& out);

} // namespace hotlead
