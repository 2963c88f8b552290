// Domain objects → JSON text. Appends to a caller's string so a response is
// built in one buffer. Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"
#include "protocol/org.hpp"

namespace hotlead {

/// Appends `s` as a quoted JSON string with escapes.
void append_json_string(std::string& out, std::string_view s);

/// Appends a double in shortest round-trip form (integers without ".0").
void append_json_number(std::string& out, double d);

/// A custom attribute's value: a JSON string, number or bool.
void append_attr_value(std::string& out, const attr_value& v);

/// The full lead object, as GET /v1/leads/{id} answers it.
void write_lead(std::string& out, const lead& l);
std::string lead_json(const lead& l);

/// An upper bound of the bytes write_lead appends (it sizes its buffer by it).
size_t lead_json_bound(const lead& l);

/// The stored form of one raw event: {"type","ts","properties"}.
std::string event_record(const event_input& ev);

void write_org(std::string& out, const org& o);

/// An API key record; `secret` is included only in the creation answer.
void write_key(std::string& out, const api_key& k, std::string_view secret);

/// application/problem+json body.
std::string problem_json(const problem& p, std::string_view instance);

} // namespace hotlead
