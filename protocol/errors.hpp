// The project's error vocabulary: one enum of stable codes, each with the
// HTTP status and the problem+json `code` string it maps to. Pure data, no
// threading concerns. Actors carry these inside caf::error (see
// actors/errors.hpp); the gateway turns them into problem+json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotlead {

enum class errc : uint8_t {
  none = 0,
  malformed_json,
  invalid_field,
  unknown_field,
  missing_field,
  invalid_id,
  invalid_query,
  invalid_cursor,
  duplicate_email,
  duplicate_external_id,
  not_found,
  unauthorized,
  forbidden,
  body_too_large,
  method_not_allowed,
  unsupported_media_type,
  upgrade_required, // a WebSocket route asked for without the handshake
  storage_error,
  timeout,
  overloaded,
  not_ready,
  internal,
  invalid_request,
  invalid_model, // a scoring model that cannot be used (422)
  conflict,      // the resource is busy with another change (409)
  cannot_train,  // the org's leads cannot make a predictive model (422)
};

/// A domain error: stable code plus a message that says what to fix.
struct problem {
  errc code = errc::none;
  std::string detail;
};

/// HTTP status of an error code (4xx for the caller's mistakes, 5xx ours).
int http_status(errc e);

/// The stable `code` field of the problem+json body, e.g. "invalid_field".
std::string_view code_name(errc e);

/// Short human title, e.g. "Invalid field".
std::string_view title(errc e);

} // namespace hotlead
