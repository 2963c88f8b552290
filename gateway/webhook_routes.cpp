// /v1/webhooks: an org's webhooks (admin and manager keys) and their
// deliveries. A change is journaled first and applied to the book once
// durable, then answered (back on the io thread via the bridge).
#include <caf/all.hpp>

#include <algorithm>

#include "actors/webhooks.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "gateway/webhook_sender.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"

namespace hotlead {

namespace {

// The org's webhook of a path segment when the caller manages webhooks,
// or nullopt after answering.
std::optional<webhook> webhook_of(const ctx_ptr& ctx, std::string_view text) {
  if (!permitted(ctx, permission::manage_webhooks))
    return std::nullopt;
  auto id = parse_id(text);
  if (!id) {
    ctx->fail(errc::invalid_id, "'" + std::string{text.substr(0, 64)} +
                                  "' is not a webhook id; ids are 16 hex digits");
    return std::nullopt;
  }
  auto w = ctx->env.webhooks->find(ctx->who.org, *id);
  if (!w)
    ctx->fail(errc::not_found, "no webhook with id " + std::string{text});
  return w;
}

// Journals `ops`; once durable runs `apply` and answers with `reply`.
void write_then(const ctx_ptr& ctx, std::vector<write_op> ops, std::function<void()> apply,
                std::function<void()> reply) {
  auto* br = &ctx->br;
  ctx->env.jr.append(std::move(ops), [ctx, br, apply = std::move(apply),
                                      reply = std::move(reply)](const std::optional<problem>& e) {
    if (!e)
      apply();
    br->post([ctx, e, reply] {
      if (e)
        return ctx->fail(*e);
      reply();
    });
  });
}

std::string webhook_list_json(const std::vector<webhook>& hooks) {
  std::string out = "{\"webhooks\":[";
  for (size_t i = 0; i < hooks.size(); ++i) {
    if (i)
      out += ',';
    write_webhook(out, hooks[i], false);
  }
  out += "]}";
  return out;
}

} // namespace

void handle_create_webhook(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::manage_webhooks))
    return;
  webhook w;
  if (auto p = parse_webhook(ctx->req.body, false, w))
    return ctx->fail(*p);
  if (ctx->env.webhooks->count(ctx->who.org) >= 100)
    return ctx->fail(errc::conflict, "an org has at most 100 webhooks; delete one first");
  w.id = new_id();
  w.org = ctx->who.org;
  w.created_at = w.updated_at = now_ms();
  std::string stored;
  write_webhook(stored, w, true);
  auto* book = ctx->env.webhooks;
  write_then(
    ctx, {{write_op::put, keys::webhook(w.org, w.id), stored}}, [book, w] { book->put(w, true); },
    [ctx, w] {
      http_reply rep;
      rep.status = 201;
      write_webhook(rep.body, w, true); // the secret, this once
      rep.headers.emplace_back("Location", "/v1/webhooks/" + id_to_hex(w.id));
      ctx->reply(std::move(rep));
    });
}

void handle_list_webhooks(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::manage_webhooks))
    return;
  ctx->reply_json(200, webhook_list_json(ctx->env.webhooks->list(ctx->who.org)));
}

void handle_get_webhook(const ctx_ptr& ctx, std::string_view id) {
  auto w = webhook_of(ctx, id);
  if (!w)
    return;
  std::string body;
  write_webhook(body, *w, false);
  ctx->reply_json(200, std::move(body));
}

void handle_patch_webhook(const ctx_ptr& ctx, std::string_view id) {
  auto w = webhook_of(ctx, id);
  if (!w)
    return;
  auto before = *w;
  if (auto p = parse_webhook(ctx->req.body, true, *w))
    return ctx->fail(*p);
  w->updated_at = now_ms();
  // A new threshold starts a new view: no lead is hot in it yet.
  bool reset = before.threshold != w->threshold;
  std::string stored;
  write_webhook(stored, *w, true);
  std::vector<write_op> ops{{write_op::put, keys::webhook(w->org, w->id), stored}};
  if (reset)
    ops.push_back({write_op::del_range, keys::hot_lead(w->id, 0), keys::tagged_end('T', w->id)});
  auto* book = ctx->env.webhooks;
  bool new_secret = before.secret != w->secret;
  write_then(ctx, std::move(ops), [book, w = *w, reset] { book->put(w, reset); },
             [ctx, w = *w, new_secret] {
               std::string body;
               write_webhook(body, w, new_secret);
               ctx->reply_json(200, std::move(body));
             });
}

void handle_delete_webhook(const ctx_ptr& ctx, std::string_view id) {
  auto w = webhook_of(ctx, id);
  if (!w)
    return;
  std::vector<write_op> ops{
    {write_op::del, keys::webhook(w->org, w->id), {}},
    {write_op::del_range, keys::delivery(w->id, 0), keys::tagged_end('Y', w->id)},
    {write_op::del_range, keys::hot_lead(w->id, 0), keys::tagged_end('T', w->id)}};
  auto* book = ctx->env.webhooks;
  write_then(ctx, std::move(ops), [book, org = w->org, hook = w->id] { book->remove(org, hook); },
             [ctx] {
               http_reply rep;
               rep.status = 204;
               ctx->reply(std::move(rep));
             });
}

void handle_list_deliveries(const ctx_ptr& ctx, std::string_view id) {
  auto w = webhook_of(ctx, id);
  if (!w)
    return;
  auto pairs = query_pairs(ctx);
  if (!pairs)
    return;
  size_t limit = 50;
  std::optional<delivery::state_t> state;
  uint64_t before = 0;
  for (auto& [k, v] : *pairs) {
    if (k == "limit") {
      auto n = std::strtoul(v.c_str(), nullptr, 10);
      if (v.empty() || v.find_first_not_of("0123456789") != v.npos || n < 1 || n > 500)
        return ctx->fail(errc::invalid_query, "?limit= takes 1 to 500 (deliveries, newest first)");
      limit = n;
    } else if (k == "state") {
      state = parse_state(v);
      if (!state)
        return ctx->fail(errc::invalid_query, "?state= takes pending, delivered or parked");
    } else if (k == "cursor") {
      auto c = parse_id(v);
      if (!c)
        return ctx->fail(errc::invalid_cursor, "?cursor= takes the next_cursor of a page");
      before = *c;
    } else {
      return ctx->fail(errc::invalid_query, "unknown query parameter '" + k.substr(0, 60) +
                                              "' (known: limit, state, cursor)");
    }
  }
  std::string under;
  put_be64(under, w->id);
  std::string body = "{\"deliveries\":[";
  size_t n = 0;
  uint64_t last = 0;
  bool more = false;
  auto err = ctx->env.db.visit_tag_back(
    'Y', under, before ? keys::delivery(w->id, before) : std::string{},
    [&](std::string_view, std::string_view v) {
      auto d = decode_delivery(v);
      if (!d || (state && d->state != *state))
        return true;
      if (n == limit) {
        more = true;
        return false;
      }
      if (n++)
        body += ',';
      write_delivery(body, *d, true);
      last = d->id;
      return true;
    });
  if (err)
    return ctx->fail(*err);
  body += "],\"next_cursor\":";
  body += more ? "\"" + id_to_hex(last) + "\"" : "null";
  body += '}';
  ctx->reply_json(200, std::move(body));
}

void handle_replay_deliveries(const ctx_ptr& ctx, std::string_view id) {
  auto w = webhook_of(ctx, id);
  if (!w)
    return;
  std::vector<uint64_t> ids;
  if (!ctx->req.body.empty())
    if (auto p = parse_replay_request(ctx->req.body, ids))
      return ctx->fail(*p);
  auto* br = &ctx->br;
  ctx->env.sender->replay(w->id, ids, [ctx, br](std::optional<problem> e,
                                                std::vector<uint64_t> replayed) {
    br->post([ctx, e = std::move(e), replayed = std::move(replayed)] {
      if (e)
        return ctx->fail(*e);
      std::string body = "{\"replayed\":" + std::to_string(replayed.size()) + ",\"ids\":[";
      for (size_t i = 0; i < replayed.size(); ++i)
        body += (i ? ",\"" : "\"") + id_to_hex(replayed[i]) + "\"";
      body += "]}";
      ctx->reply_json(200, std::move(body));
    });
  });
}

} // namespace hotlead
