// hotlead-bench's reply reader: the status line and the two headers a load
// generator needs (Content-Length, Connection), found in the bytes received
// so far, as wrk's http_parser does. The body is skipped, not copied: at 1 KB
// per reply, building a Beast response (header fields allocated one by one,
// the body copied into a string) cost the client ~3 us per request on the
// same 2 cores the server runs on. Replies must carry a Content-Length (the
// servers measured here all do); anything else is reported as malformed.
// Pure functions, no state: any thread.
#pragma once

#include <boost/beast/core/string.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace hotlead::bench {

struct reply_head {
  unsigned status = 0;
  size_t head_bytes = 0;   // status line and headers, the blank line included
  size_t body_bytes = 0;   // Content-Length
  bool close = false;      // Connection: close (or HTTP/1.0 without keep-alive)
};

enum class head_result { complete, incomplete, malformed };

namespace detail {

// Case-insensitive, with Beast's compare (Boost 1.74's Beast has its own string_view).
inline bool named(std::string_view a, std::string_view b) {
  return boost::beast::iequals({a.data(), a.size()}, {b.data(), b.size()});
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace detail

/// Reads the reply head at the start of `buf` into `out`.
inline head_result parse_reply_head(std::string_view buf, reply_head& out) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return buf.size() > 64 * 1024 ? head_result::malformed : head_result::incomplete;
  out = {};
  out.head_bytes = end + 4;
  auto head = buf.substr(0, end);
  auto eol = head.find("\r\n");
  auto status_line = head.substr(0, eol);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/")
    return head_result::malformed;
  bool http10 = status_line.substr(5, 3) == "1.0";
  out.close = http10;
  unsigned status = 0;
  for (size_t i = 9; i < 12; ++i) {
    char c = status_line[i];
    if (c < '0' || c > '9')
      return head_result::malformed;
    status = status * 10 + static_cast<unsigned>(c - '0');
  }
  out.status = status;
  bool has_length = false;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return head_result::malformed;
    auto name = line.substr(0, colon);
    auto value = detail::trim(line.substr(colon + 1));
    if (detail::named(name, "content-length")) {
      size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9')
          return head_result::malformed;
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      out.body_bytes = n;
      has_length = true;
    } else if (detail::named(name, "connection")) {
      if (detail::named(value, "close"))
        out.close = true;
      else if (detail::named(value, "keep-alive"))
        out.close = false;
    } else if (detail::named(name, "transfer-encoding")) {
      return head_result::malformed; // chunked replies are not measured here
    }
  }
  // A reply that cannot have a body needs no length.
  if (!has_length && !(status == 204 || status == 304 || status < 200))
    return head_result::malformed;
  return head_result::complete;
}

} // namespace hotlead::bench
