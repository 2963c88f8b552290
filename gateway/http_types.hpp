// The edge's view of one HTTP exchange, without Beast types, so route code
// compiles without Beast headers. http_session fills an http_request and
// turns an http_reply back into a Beast response.
#pragma once

#include <functional>
#include <memory>
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
  // A WebSocket handshake's header fields (GET /v1/stream), else empty.
  std::string host, upgrade, connection, ws_key, ws_version;
};

/// A request body consumed as it arrives instead of collected whole
/// (POST /v1/leads:import): the session hands it the body's bytes and stops
/// reading from the socket while it is paused. io thread only.
class body_stream {
public:
  virtual ~body_stream() = default;
  virtual void write(std::string_view bytes) = 0;
  virtual bool paused() const = 0;
  /// `resume` is called once, on the io thread, when paused() turns false.
  virtual void on_resume(std::function<void()> resume) = 0;
};

/// A response body produced piece by piece (GET /v1/leads:export), sent
/// with chunked transfer encoding: the session asks for the next piece
/// once the last one is written, so a slow reader holds one piece, not
/// the whole body. io thread only.
class body_source {
public:
  virtual ~body_source() = default;
  /// Appends the next piece to `out` (empty `out` is allowed); false when
  /// the body is complete (nothing more appended).
  virtual bool next(std::string& out) = 0;
};

struct http_reply {
  unsigned status = 200;
  std::string_view content_type = "application/json"; // a string literal
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<body_source> source; // when set, the body comes from it (chunked)
};

/// Completes a request; called exactly once, on the session's io thread.
using responder = std::function<void(http_reply)>;

} // namespace hotlead
