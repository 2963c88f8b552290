// Tenancy endpoints: organizations (root key) and API keys (root, or an
// admin of that org). The secret of a new key is answered once and only
// its hash is stored.
#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

void handle_create_org(const ctx_ptr& ctx) {
  if (!allowed(ctx->who.key_role, permission::manage_orgs))
    return ctx->fail(errc::forbidden, "only the root key creates organizations");
  org o;
  if (auto p = parse_org(ctx->req.body, o))
    return ctx->fail(*p);
  ctx->br.request<org>(
    ctx->env.catalog,
    [ctx](caf::expected<org> r) {
      if (!r)
        return ctx->fail(r.error());
      http_reply rep;
      rep.status = 201;
      write_org(rep.body, *r);
      rep.headers.emplace_back("Location", "/v1/orgs/" + id_to_hex(r->id));
      ctx->reply(std::move(rep));
    },
    msg::new_org{std::move(o)});
}

namespace {

// The org of /v1/orgs/{org}/keys... when the caller may manage its keys:
// the root key, or an admin of that org. Another org looks missing.
std::optional<uint64_t> key_manager_org(const ctx_ptr& ctx, std::string_view org_text) {
  auto org_id = parse_id(org_text);
  if (!org_id) {
    ctx->fail(errc::invalid_id, "'" + std::string{org_text.substr(0, 64)} +
                                  "' is not an org id; ids are 16 hex digits");
    return std::nullopt;
  }
  bool own_admin = ctx->who.org == *org_id && ctx->who.key_role == role::admin;
  if (ctx->who.key_role == role::root || own_admin)
    return org_id;
  if (ctx->who.org != *org_id)
    ctx->fail(errc::not_found, "no organization with id " + std::string{org_text});
  else
    ctx->fail(errc::forbidden, "only an org admin (or the root key) manages keys");
  return std::nullopt;
}

} // namespace

void handle_list_keys(const ctx_ptr& ctx, std::string_view org_text) {
  auto org_id = key_manager_org(ctx, org_text);
  if (!org_id)
    return;
  ctx->br.request<std::string>(
    ctx->env.catalog,
    [ctx](caf::expected<std::string> r) {
      if (!r)
        return ctx->fail(r.error());
      ctx->reply_json(200, std::move(*r));
    },
    msg::list_keys{*org_id});
}

void handle_revoke_key(const ctx_ptr& ctx, std::string_view org_text, std::string_view key_text) {
  auto org_id = key_manager_org(ctx, org_text);
  if (!org_id)
    return;
  auto key_id = parse_id(key_text);
  if (!key_id)
    return ctx->fail(errc::invalid_id, "'" + std::string{key_text.substr(0, 64)} +
                                         "' is not a key id; ids are 16 hex digits");
  ctx->br.request<api_key>(
    ctx->env.catalog,
    [ctx](caf::expected<api_key> r) {
      if (!r)
        return ctx->fail(r.error());
      ctx->env.keys.remove(r->hash); // effective at once, on every connection
      http_reply rep;
      rep.status = 204;
      ctx->reply(std::move(rep));
    },
    msg::revoke_key{*org_id, *key_id});
}

void handle_create_key(const ctx_ptr& ctx, std::string_view org_text) {
  auto org_id = key_manager_org(ctx, org_text);
  if (!org_id)
    return;
  api_key k;
  if (auto p = parse_key_request(ctx->req.body, k.key_role, k.name))
    return ctx->fail(*p);
  auto secret = new_key_secret();
  k.hash = sha256_hex(secret);
  k.id = new_id();
  k.org = *org_id;
  k.created_at = now_ms();
  ctx->br.request<msg::key_grant>(
    ctx->env.catalog,
    [ctx, secret](caf::expected<msg::key_grant> r) {
      if (!r)
        return ctx->fail(r.error());
      ctx->env.keys.add(r->record, r->org_actor);
      std::string body;
      write_key(body, r->record, secret);
      ctx->reply_json(201, std::move(body));
    },
    msg::new_key{std::move(k)});
}

} // namespace hotlead
