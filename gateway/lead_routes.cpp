// Lead and activity endpoints: parse and validate at the edge (so a bad
// request never reaches an actor), check the caller's permission, then send
// one domain message: identity-changing writes to the org actor, reads and
// events straight to the lead's shard, lists to every shard (merged here).
#include <caf/all.hpp>

#include <algorithm>

#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "actors/router.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/query.hpp"
#include "protocol/score.hpp"

namespace hotlead {

std::string scored_lead_json(const lead& l, const model_registry& models) {
  auto& e = models.of(l.org, l.model_version);
  std::string out;
  write_scored_lead(out, l, e.model, e.version, now_ms(), models.predictive.predict(l));
  return out;
}

bool permitted(const ctx_ptr& ctx, permission p) {
  if (allowed(ctx->who.key_role, p))
    return true;
  if (ctx->who.key_role == role::root)
    ctx->fail(errc::forbidden, "the root key manages orgs and keys; use an org's API key "
                               "for leads (POST /v1/orgs/{org}/keys)");
  else
    ctx->fail(errc::forbidden, "the role '" + std::string{to_string(ctx->who.key_role)} +
                                 "' may not do this; ask an org admin for a key with the "
                                 "right role");
  return false;
}

namespace {

// Answers a write that went through the org actor.
void reply_written(const ctx_ptr& ctx, caf::expected<msg::lead_written>& r, unsigned ok_status) {
  if (!r)
    return ctx->fail(r.error());
  unsigned status = r->created ? 201u : ok_status;
  if (r->body.empty())
    status = 204;
  http_reply rep;
  rep.status = status;
  rep.body = std::move(r->body);
  if (status == 201)
    rep.headers.emplace_back("Location", "/v1/leads/" + id_to_hex(r->id));
  ctx->reply(std::move(rep));
}

std::optional<msg::upsert_mode> parse_upsert(const ctx_ptr& ctx) {
  if (ctx->query.empty())
    return msg::upsert_mode::none;
  if (ctx->query == "upsert=email")
    return msg::upsert_mode::email;
  if (ctx->query == "upsert=external_id")
    return msg::upsert_mode::external_id;
  ctx->fail(errc::invalid_query,
            "POST /v1/leads takes only ?upsert=email or ?upsert=external_id");
  return std::nullopt;
}

} // namespace

void handle_create_lead(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::write_leads))
    return;
  auto mode = parse_upsert(ctx);
  if (!mode)
    return;
  lead_patch patch;
  if (auto p = parse_lead(ctx->req.body, false, ctx->env.lim, patch))
    return ctx->fail(*p);
  ctx->br.request<msg::lead_written>(
    ctx->who.org_actor, [ctx](caf::expected<msg::lead_written> r) { reply_written(ctx, r, 200); },
    msg::upsert_lead{ctx->who.org, std::move(patch), *mode, now_ms()});
}

void handle_get_lead(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::read_leads))
    return;
  // Read on this io thread under the shard's read lock, no actor hop, with
  // the other reads of this io turn (bridge::read_lead).
  ctx->br.read_lead(ctx->env.rt->table_for(id), ctx->who.org, id, *ctx->env.models,
                    scored_lead_json,
                    [ctx](uint64_t id, std::string* body) {
                      if (!body)
                        return ctx->fail(errc::not_found, "no lead with id " + id_to_hex(id));
                      ctx->reply_json(200, std::move(*body));
                    });
}

void handle_patch_lead(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::write_leads))
    return;
  lead_patch patch;
  if (auto p = parse_lead(ctx->req.body, true, ctx->env.lim, patch))
    return ctx->fail(*p);
  ctx->br.request<msg::lead_written>(
    ctx->who.org_actor, [ctx](caf::expected<msg::lead_written> r) { reply_written(ctx, r, 200); },
    msg::update_lead{ctx->who.org, id, std::move(patch), now_ms()});
}

void handle_delete_lead(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::delete_leads))
    return;
  ctx->br.request<msg::lead_written>(
    ctx->who.org_actor, [ctx](caf::expected<msg::lead_written> r) { reply_written(ctx, r, 204); },
    msg::remove_lead{ctx->who.org, id});
}

void handle_post_event(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::write_leads))
    return;
  event_input ev;
  if (auto p = parse_event(ctx->req.body, ctx->env.lim, now_ms(), ev))
    return ctx->fail(*p);
  // Sent with the other events of this io turn; answered from the journal
  // thread once durable (actors/reply_route.hpp).
  ctx->br.request_event(
    ctx->env.rt->shard_for(id),
    [ctx](direct_result& r) {
      if (auto* p = std::get_if<problem>(&r))
        return ctx->fail(*p);
      ctx->reply_json(201, std::move(std::get<std::string>(r)));
    },
    msg::add_event{ctx->who.org, id, std::move(ev)});
}

void handle_list_leads(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  list_query q;
  if (auto p = parse_list_query(ctx->query, q))
    return ctx->fail(*p);
  q.org = ctx->who.org;
  struct gather {
    list_query q;
    size_t waiting;
    std::optional<caf::error> err;
    std::vector<std::pair<sort_key, std::string>> items;
  };
  auto& shards = ctx->env.rt->shards();
  auto g = std::make_shared<gather>(gather{q, shards.size(), std::nullopt, {}});
  for (auto& shard : shards)
    ctx->br.request<msg::list_page>(
      shard,
      [ctx, g](caf::expected<msg::list_page> r) {
        if (!r)
          g->err = r.error();
        else
          for (auto& item : r->items)
            g->items.push_back(std::move(item));
        if (--g->waiting > 0)
          return;
        if (g->err)
          return ctx->fail(*g->err);
        auto& q = g->q;
        std::sort(g->items.begin(), g->items.end(),
                  [&q](auto& a, auto& b) { return comes_before(a.first, b.first, q); });
        bool more = g->items.size() > q.limit;
        size_t n = std::min<size_t>(g->items.size(), q.limit);
        std::string body = "{\"data\":[";
        for (size_t i = 0; i < n; ++i) {
          if (i)
            body += ',';
          body += g->items[i].second;
        }
        body += "],\"next_cursor\":";
        if (more)
          append_json_string(body, encode_cursor(g->items[n - 1].first, q));
        else
          body += "null";
        body += '}';
        ctx->reply_json(200, std::move(body));
      },
      msg::list_leads{q});
}

void handle_events_batch(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::write_leads))
    return;
  bool ndjson = ctx->req.content_type.starts_with("application/x-ndjson");
  std::vector<batch_item> items;
  if (auto p = parse_event_batch(ctx->req.body, ndjson, ctx->env.lim, now_ms(), items))
    return ctx->fail(*p);
  struct gather {
    size_t waiting = 0, accepted = 0, total = 0;
    std::vector<std::pair<size_t, problem>> errors;
  };
  auto g = std::make_shared<gather>();
  g->total = items.size();
  auto& rt = *ctx->env.rt;
  std::vector<msg::add_events> per_shard(rt.shards().size());
  for (auto& item : items) {
    if (item.error) {
      g->errors.emplace_back(item.index, std::move(*item.error));
      continue;
    }
    auto& m = per_shard[rt.shard_index(item.lead_id)];
    m.index.push_back(item.index);
    m.ids.push_back(item.lead_id);
    m.events.push_back(std::move(item.event));
  }
  auto finish = [ctx, g] {
    std::sort(g->errors.begin(), g->errors.end(),
              [](auto& a, auto& b) { return a.first < b.first; });
    std::string body = "{\"accepted\":" + std::to_string(g->accepted) +
                       ",\"rejected\":" + std::to_string(g->errors.size()) + ",\"errors\":[";
    for (size_t i = 0; i < g->errors.size(); ++i) {
      auto& [index, p] = g->errors[i];
      if (i)
        body += ',';
      body += "{\"index\":" + std::to_string(index) + ",\"code\":\"" +
              std::string{code_name(p.code)} + "\",\"detail\":";
      append_json_string(body, p.detail);
      body += '}';
    }
    body += "]}";
    ctx->reply_json(200, std::move(body));
  };
  for (size_t s = 0; s < per_shard.size(); ++s)
    g->waiting += per_shard[s].ids.empty() ? 0 : 1;
  if (g->waiting == 0)
    return finish();
  for (size_t s = 0; s < per_shard.size(); ++s) {
    if (per_shard[s].ids.empty())
      continue;
    auto indices = per_shard[s].index;
    per_shard[s].org = ctx->who.org;
    ctx->br.request<msg::batch_outcome>(
      rt.shards()[s],
      [g, finish, indices](caf::expected<msg::batch_outcome> r) {
        if (r) {
          g->accepted += r->accepted;
          for (auto& e : r->errors)
            g->errors.push_back(std::move(e));
        } else {
          // This shard's items are not acknowledged: report each of them.
          for (auto i : indices)
            g->errors.emplace_back(i, to_problem(r.error()));
        }
        if (--g->waiting == 0)
          finish();
      },
      std::move(per_shard[s]));
  }
}

} // namespace hotlead
