// The edge's view of one HTTP exchange, without Beast types, so route code
// compiles without Beast headers. http_session fills an http_request and
// turns an http_reply back into a Beast response.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotlead {

struct http_request {
  std::string method; // "GET", "POST", ...
  std::string target; // path and query, as sent
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string request_id; // X-Request-Id, echoed back
};

struct http_reply {
  unsigned status = 200;
  std::string_view content_type = "application/json"; // a string literal
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Completes a request; called exactly once, on the session's io thread.
using responder = std::function<void(http_reply)>;

} // namespace hotlead
