#include "protocol/errors.hpp"

namespace hotlead {

namespace {

struct entry {
  int status;
  std::string_view code;
  std::string_view title;
};

entry lookup(errc e) {
  switch (e) {
    case errc::none: return {200, "none", "No error"};
    case errc::malformed_json: return {400, "malformed_json", "Malformed JSON"};
    case errc::invalid_field: return {400, "invalid_field", "Invalid field"};
    case errc::unknown_field: return {400, "unknown_field", "Unknown field"};
    case errc::missing_field: return {400, "missing_field", "Missing field"};
    case errc::invalid_id: return {400, "invalid_id", "Invalid id"};
    case errc::invalid_query: return {400, "invalid_query", "Invalid query parameter"};
    case errc::invalid_cursor: return {400, "invalid_cursor", "Invalid cursor"};
    case errc::invalid_request: return {400, "invalid_request", "Invalid request"};
    case errc::invalid_model: return {422, "invalid_model", "Invalid scoring model"};
    case errc::conflict: return {409, "conflict", "Conflict"};
    case errc::cannot_train: return {422, "cannot_train", "Cannot train a model"};
    case errc::duplicate_email: return {409, "duplicate_email", "Duplicate email"};
    case errc::duplicate_external_id:
      return {409, "duplicate_external_id", "Duplicate external_id"};
    case errc::not_found: return {404, "not_found", "Not found"};
    case errc::unauthorized: return {401, "unauthorized", "Unauthorized"};
    case errc::forbidden: return {403, "forbidden", "Forbidden"};
    case errc::body_too_large: return {413, "body_too_large", "Request body too large"};
    case errc::method_not_allowed:
      return {405, "method_not_allowed", "Method not allowed"};
    case errc::upgrade_required: return {426, "upgrade_required", "Upgrade required"};
    case errc::unsupported_media_type:
      return {415, "unsupported_media_type", "Unsupported media type"};
    case errc::storage_error: return {503, "storage_error", "Storage unavailable"};
    case errc::timeout: return {503, "timeout", "Request timed out inside the server"};
    case errc::overloaded: return {503, "overloaded", "Server overloaded"};
    case errc::not_ready: return {503, "not_ready", "Server not ready"};
    case errc::internal: return {500, "internal", "Internal error"};
  }
  return {500, "internal", "Internal error"};
}

} // namespace

int http_status(errc e) {
  return lookup(e).status;
}

std::string_view code_name(errc e) {
  return lookup(e).code;
}

std::string_view title(errc e) {
  return lookup(e).title;
}

} // namespace hotlead
