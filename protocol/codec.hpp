// Binary encoding of leads, orgs and API keys for RocksDB values: a version
// byte, then varints and length-prefixed strings. Interned symbols are stored
// as their names so the on-disk form does not depend on a process's pool.
// Decoding validates every length and returns false on a corrupt record.
#pragma once

#include <string>
#include <string_view>

#include "protocol/lead.hpp"
#include "protocol/org.hpp"

namespace hotlead {

void encode(std::string& out, const lead& l);
bool decode(std::string_view in, lead& l);

void encode(std::string& out, const org& o);
bool decode(std::string_view in, org& o);

void encode(std::string& out, const api_key& k);
bool decode(std::string_view in, api_key& k);

} // namespace hotlead
