// GET /v1/stream: the WebSocket handshake of a change-feed subscription
// (gateway/ws_session.hpp), authenticated like every route (the key in the
// Authorization header) or, for browsers, with ?token= from
// POST /v1/stream/tokens; the session takes the connection over.
#include <boost/algorithm/string/predicate.hpp>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/time.hpp"

namespace hotlead {

namespace {

// The ?token= of a browser's handshake: its principal, or an answer (401).
bool token_principal(const ctx_ptr& ctx, const std::string& token) {
  std::string why;
  auto who = ctx->env.tokens->verify(token, now_ms(), ctx->env.keys, why);
  if (!who) {
    auto r = problem_reply({errc::unauthorized, why}, ctx->path);
    r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    ctx->reply(std::move(r));
    return false;
  }
  ctx->who = std::move(*who);
  return true;
}

} // namespace

void handle_stream(const ctx_ptr& ctx) {
  std::string token;
  if (ctx->req.authorization.empty()) {
    auto pairs = query_pairs(ctx);
    if (!pairs)
      return;
    for (auto& [k, v] : *pairs)
      if (k == "token")
        token = v;
  }
  if (token.empty() ? !authenticate(ctx) : !token_principal(ctx, token))
    return;
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

void handle_stream_token(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  uint32_t ttl = 300;
  if (!ctx->req.body.empty())
    if (auto p = parse_token_request(ctx->req.body, ttl))
      return ctx->fail(*p);
  auto expires = now_ms() + int64_t{ttl} * 1000;
  auto token = ctx->env.tokens->issue(ctx->who, expires);
  std::string body = "{\"token\":\"" + token + "\",\"expires_at\":\"";
  append_time(body, expires);
  body += "\",\"ttl_seconds\":" + std::to_string(ttl) + ",\"url\":\"/v1/stream?token=" + token +
          "\"}";
  ctx->reply_json(201, std::move(body));
}

} // namespace hotlead
