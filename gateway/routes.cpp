// The routing table: path and method → handler, with authentication and
// content-type checks in front. Unknown paths answer 404 and known paths
// with a wrong method 405 with an Allow header. Runs on an io thread.
#include <caf/all.hpp>

#include <array>

#include "gateway/context.hpp"
#include "gateway/problem.hpp"
#include "protocol/ids.hpp"
#include "protocol/query.hpp"

namespace hotlead {

// -- request_ctx ----------------------------------------------------------------

void request_ctx::reset() {
  for (auto* s : {&req.method, &req.target, &req.authorization, &req.content_type, &req.body,
                  &req.request_id, &req.host, &req.upgrade, &req.connection, &req.ws_key, &req.ws_version})
    s->clear();
  path = query = {};
  route = route_id::unmatched;
  who = {};
  stream.reset();
  upgrade = nullptr;
  answered = false;
}

void request_ctx::reply(http_reply r) {
  if (answered)
    return;
  answered = true;
  auto secs = std::chrono::duration<double>(clock::now() - start).count();
  env.edge_metrics.record(route, r.status, secs);
  auto d = std::move(done);
  done = nullptr;
  d(std::move(r));
}

void request_ctx::reply_json(unsigned status, std::string body) {
  http_reply r;
  r.status = status;
  r.body = std::move(body);
  reply(std::move(r));
}

void request_ctx::fail(const problem& p) {
  reply(problem_reply(p, path));
}

void request_ctx::fail(errc code, std::string detail) {
  fail(problem{code, std::move(detail)});
}

void request_ctx::fail(const caf::error& e) {
  fail(to_problem(e));
}

// -- query strings ------------------------------------------------------------------

std::vector<std::string_view> split_params(std::string_view q) {
  std::vector<std::string_view> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    if (amp != 0)
      out.push_back(q.substr(0, amp));
    q = amp == q.npos ? std::string_view{} : q.substr(amp + 1);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(const ctx_ptr& ctx) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : split_params(ctx->query)) {
    auto eq = part.find('=');
    auto key = url_decode(part.substr(0, eq));
    auto value = url_decode(eq == part.npos ? std::string_view{} : part.substr(eq + 1));
    if (!key || !value) {
      ctx->fail(errc::invalid_query, "malformed percent-encoding in the query string");
      return std::nullopt;
    }
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

// -- dispatch ---------------------------------------------------------------------

namespace {

constexpr size_t max_segments = 5;

struct segments {
  std::array<std::string_view, max_segments> s;
  size_t n = 0;
  bool too_many = false;
};

segments split(std::string_view path) {
  segments out;
  size_t pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    auto seg = path.substr(pos, slash == path.npos ? path.npos : slash - pos);
    if (out.n == max_segments) {
      out.too_many = true;
      break;
    }
    out.s[out.n++] = seg;
    if (slash == path.npos)
      break;
    pos = slash + 1;
  }
  return out;
}

void method_not_allowed(const ctx_ptr& ctx, std::string allow) {
  auto r = problem_reply({errc::method_not_allowed, ctx->req.method + " is not allowed on " +
                                                      std::string{ctx->path} + "; use " + allow},
                         ctx->path);
  r.headers.emplace_back("Allow", std::move(allow));
  ctx->reply(std::move(r));
}

} // namespace

bool authenticate(const ctx_ptr& ctx) {
  auto* cache = ctx->cache;
  auto generation = ctx->env.keys.generation();
  if (cache && cache->generation == generation && !ctx->req.authorization.empty() &&
      cache->authorization == ctx->req.authorization) {
    ctx->who = cache->who;
    return true;
  }
  auto secret = bearer_secret(ctx->req.authorization);
  if (secret.empty()) {
    auto r = problem_reply({errc::unauthorized, "send your API key as 'Authorization: Bearer "
                                                "<key>'"},
                           ctx->path);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    ctx->reply(std::move(r));
    return false;
  }
  auto who = ctx->env.keys.find(secret);
  if (!who) {
    auto r = problem_reply({errc::unauthorized, "the API key is not valid (revoked, "
                                                "mistyped, or from another server)"},
                           ctx->path);
    r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    ctx->reply(std::move(r));
    return false;
  }
  ctx->who = std::move(*who);
  if (cache) {
    cache->authorization = ctx->req.authorization;
    cache->who = ctx->who;
    cache->generation = generation;
  }
  return true;
}

namespace {

bool json_body(const ctx_ptr& ctx, bool ndjson_ok = false) {
  std::string_view ct = ctx->req.content_type;
  auto semi = ct.find(';');
  auto base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ')
    base.remove_suffix(1);
  if (base == "application/json" || (ndjson_ok && base == "application/x-ndjson"))
    return true;
  ctx->fail(errc::unsupported_media_type,
            std::string{"send the body with Content-Type: application/json"} +
              (ndjson_ok ? " (or application/x-ndjson)" : "") +
              (ct.empty() ? "" : "; got " + std::string{ct}));
  return false;
}

bool lead_id(const ctx_ptr& ctx, std::string_view text, uint64_t& id) {
  auto parsed = parse_id(text);
  if (!parsed) {
    ctx->fail(errc::invalid_id, "'" + std::string{text.substr(0, 64)} +
                                  "' is not a lead id; ids are 16 hex digits");
    return false;
  }
  id = *parsed;
  return true;
}

void dispatch_leads(const ctx_ptr& ctx, const segments& sg, const std::string& m) {
  if (sg.n == 2) {
    if (m == "GET") {
      ctx->route = route_id::list_leads;
      if (authenticate(ctx))
        handle_list_leads(ctx);
    } else if (m == "POST") {
      ctx->route = route_id::create_lead;
      if (authenticate(ctx) && json_body(ctx))
        handle_create_lead(ctx);
    } else {
      method_not_allowed(ctx, "GET, POST");
    }
    return;
  }
  uint64_t id = 0;
  if (sg.n == 3) {
    if (m == "GET") {
      ctx->route = route_id::get_lead;
      if (authenticate(ctx) && lead_id(ctx, sg.s[2], id))
        handle_get_lead(ctx, id);
    } else if (m == "PATCH") {
      ctx->route = route_id::patch_lead;
      if (authenticate(ctx) && lead_id(ctx, sg.s[2], id) && json_body(ctx))
        handle_patch_lead(ctx, id);
    } else if (m == "DELETE") {
      ctx->route = route_id::delete_lead;
      if (authenticate(ctx) && lead_id(ctx, sg.s[2], id))
        handle_delete_lead(ctx, id);
    } else {
      method_not_allowed(ctx, "GET, PATCH, DELETE");
    }
    return;
  }
  if (sg.n == 4 && sg.s[3] == "score") {
    if (m != "GET")
      return method_not_allowed(ctx, "GET");
    ctx->route = route_id::get_score;
    if (authenticate(ctx) && lead_id(ctx, sg.s[2], id))
      handle_get_score(ctx, id);
    return;
  }
  if (sg.n == 5 && sg.s[3] == "score" && sg.s[4] == "history") {
    if (m != "GET")
      return method_not_allowed(ctx, "GET");
    ctx->route = route_id::score_history;
    if (authenticate(ctx) && lead_id(ctx, sg.s[2], id))
      handle_score_history(ctx, id);
    return;
  }
  if (sg.n == 4 && sg.s[3] == "events") {
    if (m != "POST")
      return method_not_allowed(ctx, "POST");
    ctx->route = route_id::post_event;
    if (authenticate(ctx) && lead_id(ctx, sg.s[2], id) && json_body(ctx))
      handle_post_event(ctx, id);
    return;
  }
  ctx->fail(errc::not_found, "no such resource: " + std::string{ctx->path});
}

void dispatch_webhooks(const ctx_ptr& ctx, const segments& sg, const std::string& m) {
  if (sg.n == 2) {
    if (m == "GET") {
      ctx->route = route_id::list_webhooks;
      if (authenticate(ctx))
        handle_list_webhooks(ctx);
    } else if (m == "POST") {
      ctx->route = route_id::create_webhook;
      if (authenticate(ctx) && json_body(ctx))
        handle_create_webhook(ctx);
    } else {
      method_not_allowed(ctx, "GET, POST");
    }
    return;
  }
  if (sg.n == 3) {
    if (m == "GET") {
      ctx->route = route_id::get_webhook;
      if (authenticate(ctx))
        handle_get_webhook(ctx, sg.s[2]);
    } else if (m == "PATCH") {
      ctx->route = route_id::patch_webhook;
      if (authenticate(ctx) && json_body(ctx))
        handle_patch_webhook(ctx, sg.s[2]);
    } else if (m == "DELETE") {
      ctx->route = route_id::delete_webhook;
      if (authenticate(ctx))
        handle_delete_webhook(ctx, sg.s[2]);
    } else {
      method_not_allowed(ctx, "GET, PATCH, DELETE");
    }
    return;
  }
  if (sg.n == 4 && sg.s[3] == "deliveries") {
    if (m != "GET")
      return method_not_allowed(ctx, "GET");
    ctx->route = route_id::list_deliveries;
    if (authenticate(ctx))
      handle_list_deliveries(ctx, sg.s[2]);
    return;
  }
  if (sg.n == 4 && sg.s[3] == "deliveries:replay") {
    if (m != "POST")
      return method_not_allowed(ctx, "POST");
    ctx->route = route_id::replay_deliveries;
    if (authenticate(ctx) && (ctx->req.body.empty() || json_body(ctx)))
      handle_replay_deliveries(ctx, sg.s[2]);
    return;
  }
  ctx->fail(errc::not_found, "no such resource: " + std::string{ctx->path.substr(0, 200)});
}

} // namespace

namespace {

void locate(const ctx_ptr& ctx) {
  auto& target = ctx->req.target;
  auto q = target.find('?');
  ctx->path = std::string_view{target}.substr(0, q);
  ctx->query = q == target.npos ? std::string_view{} : std::string_view{target}.substr(q + 1);
}

} // namespace

std::shared_ptr<body_stream> open_body_stream(const ctx_ptr& ctx) {
  locate(ctx);
  ctx->route = route_id::import_leads;
  if (!ctx->env.ready.load()) {
    ctx->fail(errc::not_ready, "the server is still recovering; retry shortly");
    return nullptr;
  }
  if (!authenticate(ctx))
    return nullptr;
  return handle_import_header(ctx);
}

void dispatch(const ctx_ptr& ctx) {
  locate(ctx);
  auto sg = split(ctx->path);
  const auto& m = ctx->req.method;
  auto not_found = [&] {
    ctx->fail(errc::not_found, "no such resource: " + std::string{ctx->path.substr(0, 200)});
  };
  if (ctx->path.empty() || ctx->path.front() != '/' || sg.too_many)
    return not_found();
  auto only = [&](const char* method, route_id r) {
    ctx->route = r;
    if (m == method)
      return true;
    method_not_allowed(ctx, method);
    return false;
  };
  if (sg.n == 1 && sg.s[0] == "healthz") {
    if (only("GET", route_id::healthz))
      handle_healthz(ctx);
  } else if (sg.n == 1 && sg.s[0] == "readyz") {
    if (only("GET", route_id::readyz))
      handle_readyz(ctx);
  } else if (sg.n == 1 && sg.s[0] == "metrics") {
    if (only("GET", route_id::metrics))
      handle_metrics(ctx);
  } else if (sg.n == 2 && sg.s[0] == "admin" && sg.s[1] == "snapshot") {
    if (only("POST", route_id::snapshot) && authenticate(ctx))
      handle_snapshot(ctx);
  } else if (sg.n >= 2 && sg.s[0] == "v1") {
    if (!ctx->env.ready.load())
      return ctx->fail(errc::not_ready, "the server is still recovering; retry shortly");
    if (sg.s[1] == "leads") {
      dispatch_leads(ctx, sg, m);
    } else if (sg.n == 2 && sg.s[1] == "orgs") {
      if (only("POST", route_id::create_org) && authenticate(ctx) && json_body(ctx))
        handle_create_org(ctx);
    } else if (sg.n == 4 && sg.s[1] == "orgs" && sg.s[3] == "keys") {
      if (m == "GET") {
        ctx->route = route_id::list_keys;
        if (authenticate(ctx))
          handle_list_keys(ctx, sg.s[2]);
      } else if (m == "POST") {
        ctx->route = route_id::create_key;
        if (authenticate(ctx) && json_body(ctx))
          handle_create_key(ctx, sg.s[2]);
      } else {
        method_not_allowed(ctx, "GET, POST");
      }
    } else if (sg.n == 5 && sg.s[1] == "orgs" && sg.s[3] == "keys") {
      if (only("DELETE", route_id::revoke_key) && authenticate(ctx))
        handle_revoke_key(ctx, sg.s[2], sg.s[4]);
    } else if (sg.n == 2 && sg.s[1] == "scoring-model") {
      if (m == "GET") {
        ctx->route = route_id::get_scoring_model;
        if (authenticate(ctx))
          handle_get_scoring_model(ctx);
      } else if (m == "PUT") {
        ctx->route = route_id::put_scoring_model;
        if (authenticate(ctx) && json_body(ctx))
          handle_put_scoring_model(ctx);
      } else {
        method_not_allowed(ctx, "GET, PUT");
      }
    } else if (sg.n == 3 && sg.s[1] == "scoring-model" && sg.s[2] == "versions") {
      if (only("GET", route_id::list_model_versions) && authenticate(ctx))
        handle_list_model_versions(ctx);
    } else if (sg.n == 2 && sg.s[1] == "scoring-model:preview") {
      if (only("POST", route_id::preview_model) && authenticate(ctx) && json_body(ctx))
        handle_preview_model(ctx);
    } else if (sg.n == 3 && sg.s[1] == "scoring-model" && sg.s[2].ends_with(":activate")) {
      if (only("POST", route_id::activate_model) && authenticate(ctx))
        handle_activate_model(ctx, sg.s[2].substr(0, sg.s[2].size() - 9));
    } else if (sg.n == 2 && sg.s[1] == "models:train") {
      if (only("POST", route_id::train_model) && authenticate(ctx) &&
          (ctx->req.body.empty() || json_body(ctx)))
        handle_train_model(ctx);
    } else if (sg.n == 2 && sg.s[1] == "models:deactivate") {
      if (only("POST", route_id::deactivate_predictive) && authenticate(ctx))
        handle_deactivate_predictive(ctx);
    } else if (sg.n == 2 && sg.s[1] == "models") {
      if (only("GET", route_id::list_models) && authenticate(ctx))
        handle_list_models(ctx);
    } else if (sg.n == 3 && sg.s[1] == "models" && sg.s[2].ends_with(":activate")) {
      if (only("POST", route_id::activate_predictive) && authenticate(ctx) &&
          (ctx->req.body.empty() || json_body(ctx)))
        handle_activate_predictive(ctx, sg.s[2].substr(0, sg.s[2].size() - 9));
    } else if (sg.n == 3 && sg.s[1] == "models") {
      if (only("GET", route_id::get_model) && authenticate(ctx))
        handle_get_model(ctx, sg.s[2]);
    } else if (sg.n == 2 && sg.s[1] == "leads:import") {
      // POST bodies were streamed (open_body_stream), authenticated at the header
      if (only("POST", route_id::import_leads))
        handle_import(ctx);
    } else if (sg.n == 2 && sg.s[1] == "leads:export") {
      if (only("GET", route_id::export_leads) && authenticate(ctx))
        handle_export(ctx);
    } else if (sg.n == 2 && sg.s[1] == "jobs") {
      if (only("GET", route_id::list_jobs) && authenticate(ctx))
        handle_list_jobs(ctx);
    } else if (sg.n == 3 && sg.s[1] == "jobs") {
      if (only("GET", route_id::get_job) && authenticate(ctx))
        handle_get_job(ctx, sg.s[2]);
    } else if (sg.n == 2 && sg.s[1] == "score") {
      if (only("POST", route_id::score_stateless) && authenticate(ctx) && json_body(ctx))
        handle_score_stateless(ctx);
    } else if (sg.n == 2 && sg.s[1] == "stream") {
      if (only("GET", route_id::stream)) // a key, or a browser's ?token=
        handle_stream(ctx);
    } else if (sg.n == 3 && sg.s[1] == "stream" && sg.s[2] == "tokens") {
      if (only("POST", route_id::stream_token) && authenticate(ctx) &&
          (ctx->req.body.empty() || json_body(ctx)))
        handle_stream_token(ctx);
    } else if (sg.s[1] == "webhooks") {
      dispatch_webhooks(ctx, sg, m);
    } else if (sg.n == 2 && sg.s[1] == "events:batch") {
      if (only("POST", route_id::post_events_batch) && authenticate(ctx) && json_body(ctx, true))
        handle_events_batch(ctx);
    } else {
      not_found();
    }
  } else {
    not_found();
  }
}

} // namespace hotlead
