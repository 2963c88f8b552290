#include <doctest/doctest.h>

#include "bench/loadgen_response.hpp"

using namespace hotlead::bench;

TEST_CASE("the load generator reads status, length and connection from a reply head") {
  reply_head h;
  std::string_view ok = "HTTP/1.1 200 OK\r\nServer: x\r\ncontent-length: 5\r\n\r\nhello";
  REQUIRE(parse_reply_head(ok, h) == head_result::complete);
  CHECK(h.status == 200);
  CHECK(h.body_bytes == 5);
  CHECK(h.head_bytes == ok.size() - 5);
  CHECK_FALSE(h.close);

  REQUIRE(parse_reply_head("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                           h) == head_result::complete);
  CHECK(h.status == 404);
  CHECK(h.close);

  REQUIRE(parse_reply_head("HTTP/1.0 204 No Content\r\n\r\n", h) == head_result::complete);
  CHECK(h.status == 204);
  CHECK(h.close); // HTTP/1.0 closes unless told otherwise
}

TEST_CASE("the load generator waits for a whole head and rejects what it cannot measure") {
  reply_head h;
  CHECK(parse_reply_head("HTTP/1.1 200 OK\r\nContent-Len", h) == head_result::incomplete);
  CHECK(parse_reply_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", h) ==
        head_result::malformed);
  CHECK(parse_reply_head("HTTP/1.1 200 OK\r\n\r\n", h) == head_result::malformed); // no length
  CHECK(parse_reply_head("SSH-2.0-OpenSSH\r\n\r\n", h) == head_result::malformed);
  CHECK(parse_reply_head("HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\n", h) ==
        head_result::malformed);
}
