// Beast's HTTP/1.1 request parser, kept, with the few header fields the
// routes use copied straight into an http_request: no basic_fields (one
// heap node per header line) and no lookups by name afterwards. Beast still
// does the parsing, limits, chunked bodies and keep-alive rules.
#pragma once

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <algorithm>
#include <cstdint>

#include "gateway/http_types.hpp"

namespace hotlead {

class request_parser final : public boost::beast::http::basic_parser<true> {
public:
  /// Fills `out`, which must be empty and outlive the parser.
  explicit request_parser(http_request& out) : out_(out) {}

  /// 10 for HTTP/1.0, 11 for HTTP/1.1; valid once the header is parsed.
  unsigned version() const {
    return version_;
  }

  /// Whether the request is one whose body is streamed (POST
  /// /v1/leads:import): it has no body limit, and once the header is done
  /// the session must stream_to() a body_stream or answer.
  bool streamed() const {
    return streamed_;
  }

  /// Body bytes go to `s` from now on instead of the request's body.
  void stream_to(body_stream* s) {
    stream_ = s;
  }

private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  using field = boost::beast::http::field;
  using verb = boost::beast::http::verb;

  static void assign(std::string& to, string_view v, size_t max = std::string::npos) {
    to.assign(v.data(), std::min(v.size(), max));
  }

  void on_request_impl(verb, string_view method, string_view target, int version,
                       error_code&) override {
    assign(out_.method, method);
    assign(out_.target, target);
    version_ = static_cast<unsigned>(version);
    // Decided before the header's Content-Length is checked against the limit.
    if (method == "POST" && (target == "/v1/leads:import" || target.starts_with("/v1/leads:import?"))) {
      streamed_ = true;
      body_limit(UINT64_MAX); // not boost::none: Boost 1.74 compares a length with none as "over"
    }
  }

  void on_response_impl(int, string_view, int, error_code&) override {}

  // A repeated field keeps its first value, as a lookup in Beast's fields would.
  void on_field_impl(field name, string_view name_string, string_view value,
                     error_code&) override {
    if (name == field::authorization) {
      if (!seen_authorization_)
        assign(out_.authorization, value);
      seen_authorization_ = true;
    } else if (name == field::content_type) {
      if (!seen_content_type_)
        assign(out_.content_type, value);
      seen_content_type_ = true;
    } else if (name == field::host) {
      assign(out_.host, value, 256);
    } else if (name == field::upgrade) {
      assign(out_.upgrade, value, 64);
    } else if (name == field::connection) {
      assign(out_.connection, value, 128);
    } else if (name == field::sec_websocket_key) {
      assign(out_.ws_key, value, 64);
    } else if (name == field::sec_websocket_version) {
      assign(out_.ws_version, value, 16);
    } else if (name == field::unknown && !seen_request_id_ &&
               boost::beast::iequals(name_string, "X-Request-Id")) {
      assign(out_.request_id, value, 128);
      seen_request_id_ = true;
    }
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length && !streamed_) // within the body limit: basic_parser checked it before this call
      out_.body.reserve(static_cast<size_t>(*length));
  }

  std::size_t on_body_impl(string_view body, error_code&) override {
    return take(body);
  }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    return take(body);
  }

  // Body bytes, plain or from a chunk: to the stream, or into the request.
  std::size_t take(string_view body) {
    if (stream_)
      stream_->write({body.data(), body.size()});
    else
      out_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  http_request& out_;
  body_stream* stream_ = nullptr;
  bool streamed_ = false;
  unsigned version_ = 11;
  bool seen_authorization_ = false;
  bool seen_content_type_ = false;
  bool seen_request_id_ = false;
};

} // namespace hotlead
