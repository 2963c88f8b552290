// GET /v1/stream: the WebSocket handshake of a change-feed subscription
// (gateway/ws_session.hpp). Authenticated like every route (the key in the
// Authorization header); the session takes the connection over.
#include <boost/algorithm/string/predicate.hpp>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"

namespace hotlead {

void handle_stream(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads)) // also refuses the root key: it has no org
    return;
  auto& r = ctx->req;
  if (!ctx->upgrade || !boost::algorithm::icontains(r.upgrade, "websocket") ||
      !boost::algorithm::icontains(r.connection, "upgrade") || r.ws_key.empty()) {
    http_reply rep = problem_reply(
      {errc::upgrade_required,
       "GET /v1/stream is a WebSocket: send the handshake (Upgrade: websocket, Connection: "
       "Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version: 13)"},
      ctx->path);
    rep.headers.emplace_back("Upgrade", "websocket");
    return ctx->reply(std::move(rep));
  }
  auto up = std::move(ctx->upgrade);
  up(ctx->who);
}

} // namespace hotlead
