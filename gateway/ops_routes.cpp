// Operations endpoints: liveness, readiness (after recovery, not while
// draining), Prometheus metrics and snapshots. A snapshot is a RocksDB
// checkpoint made off the io threads.
#include <caf/all.hpp>

#include <filesystem>

#include "actors/stats.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "persistence/journal.hpp"
#include "persistence/store.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/time.hpp"

namespace hotlead {

void handle_healthz(const ctx_ptr& ctx) {
  ctx->reply_json(200, "{\"status\":\"ok\"}");
}

void handle_readyz(const ctx_ptr& ctx) {
  if (ctx->env.draining.load())
    return ctx->fail(errc::not_ready, "the server is shutting down");
  if (!ctx->env.ready.load())
    return ctx->fail(errc::not_ready, "the server is still recovering from RocksDB");
  if (auto err = ctx->env.jr.last_error(); !err.empty())
    return ctx->fail(errc::storage_error,
                     "writes are failing (" + err +
                       "); reads are served; fix the cause (e.g. free disk space), then restart");
  ctx->reply_json(200, "{\"status\":\"ready\"}");
}

void handle_metrics(const ctx_ptr& ctx) {
  http_reply r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = ctx->env.edge_metrics.render(ctx->env.ns, ctx->env.jr.stats());
  ctx->reply(std::move(r));
}

void handle_snapshot(const ctx_ptr& ctx) {
  if (!allowed(ctx->who.key_role, permission::operate))
    return ctx->fail(errc::forbidden, "only the root key makes snapshots");
  std::string name;
  if (auto p = parse_snapshot_request(ctx->req.body, name))
    return ctx->fail(*p);
  if (name.empty()) {
    name = "snap-" + format_time(now_ms());
    for (auto& c : name)
      if (c == ':' || c == '.')
        c = '-';
  }
  auto dir = (std::filesystem::path{ctx->env.cfg.snapshot_dir} / name).string();
  auto result = std::make_shared<std::optional<problem>>();
  ctx->br.run_blocking([ctx, dir, result] { *result = ctx->env.db.checkpoint(dir); },
                        [ctx, dir, result] {
                          if (*result)
                            return ctx->fail(**result);
                          std::string body = "{\"path\":";
                          append_json_string(body, dir);
                          body += '}';
                          ctx->reply_json(201, std::move(body));
                        });
}

} // namespace hotlead
