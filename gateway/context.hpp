// What route handlers work with: the node-wide edge environment (shared by
// all io threads, set up once at start) and one request's context (owned by
// the handler chain via shared_ptr, completed exactly once by reply()).
#pragma once

#include <caf/actor.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/auth.hpp"
#include "gateway/http_types.hpp"
#include "gateway/metrics.hpp"
#include "protocol/errors.hpp"
#include "protocol/limits.hpp"

namespace caf {
class error;
}

namespace hotlead {

class bridge;
struct lead;
struct job;
class job_table;
class model_registry;
class router;
class store;
class journal;
class feed_hub;
class webhook_book;
class webhook_sender;
struct node_stats;

struct edge_config {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  size_t io_threads = 2;
  size_t max_connections = 10000;
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds header_timeout{30000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds request_timeout{5000};
  size_t stream_max_queue = 4096; // messages a WebSocket may have unsent before it is dropped
  std::string snapshot_dir;
};

struct edge_env {
  const router* rt = nullptr; // set once recovery is done (then ready = true)
  const model_registry* models = nullptr; // likewise
  job_table* jobs = nullptr;              // likewise
  caf::actor catalog;
  key_table& keys;
  metrics& edge_metrics;
  node_stats& ns;
  journal& jr;
  store& db;
  limits lim;
  edge_config cfg;
  feed_hub* feed = nullptr; // the change feed (WebSocket subscriptions)
  const stream_tokens* tokens = nullptr; // ?token= of GET /v1/stream
  webhook_book* webhooks = nullptr;      // POST/GET/PATCH/DELETE /v1/webhooks
  webhook_sender* sender = nullptr;      // their deliveries (replay)
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

/// The last key a connection authenticated with, so a keep-alive
/// connection hashes its key once, not on every request.
struct auth_cache {
  std::string authorization; // the header as sent
  principal who;
  uint64_t generation = 0; // of the key_table when cached
};

struct request_ctx {
  using clock = std::chrono::steady_clock;

  request_ctx(edge_env& e, bridge& b, http_request r, responder d, auth_cache* ac = nullptr)
    : env(e), br(b), req(std::move(r)), done(std::move(d)), start(clock::now()), cache(ac) {}

  edge_env& env;
  bridge& br; // this io thread's bridge to the actors
  http_request req;
  std::string_view path, query; // views into req.target
  route_id route = route_id::unmatched;
  principal who;
  responder done;
  clock::time_point start;
  auth_cache* cache; // owned by the connection; null when there is none
  std::shared_ptr<body_stream> stream; // a body streamed as it arrives (import)
  /// Set by the session for a WebSocket handshake: hands the connection
  /// over to a WebSocket session of `who` (GET /v1/stream).
  std::function<void(const principal& who)> upgrade;
  bool answered = false;

  /// Empties the context for the connection's next request (its strings
  /// keep their capacity).
  void reset();

  void reply(http_reply r);
  void reply_json(unsigned status, std::string body);
  void fail(const problem& p);
  void fail(errc code, std::string detail);
  void fail(const caf::error& e);
};

using ctx_ptr = std::shared_ptr<request_ctx>;

/// Routes a request: matches path and method, authenticates, dispatches.
void dispatch(const ctx_ptr& ctx);

/// Finds the caller by the bearer key, or answers 401.
bool authenticate(const ctx_ptr& ctx);

/// At the header of a request whose body is streamed (POST
/// /v1/leads:import): authenticates and checks it, and returns the stream
/// its body goes to, or null when the request was answered.
std::shared_ptr<body_stream> open_body_stream(const ctx_ptr& ctx);

// -- handlers, by resource (gateway/*_routes.cpp) -----------------------------
void handle_healthz(const ctx_ptr& ctx);
void handle_readyz(const ctx_ptr& ctx);
void handle_metrics(const ctx_ptr& ctx);
void handle_snapshot(const ctx_ptr& ctx);
void handle_create_org(const ctx_ptr& ctx);
void handle_create_key(const ctx_ptr& ctx, std::string_view org_id);
void handle_list_keys(const ctx_ptr& ctx, std::string_view org_id);
void handle_revoke_key(const ctx_ptr& ctx, std::string_view org_id, std::string_view key_id);
void handle_list_leads(const ctx_ptr& ctx);
void handle_create_lead(const ctx_ptr& ctx);
void handle_get_lead(const ctx_ptr& ctx, uint64_t id);
void handle_patch_lead(const ctx_ptr& ctx, uint64_t id);
void handle_delete_lead(const ctx_ptr& ctx, uint64_t id);
void handle_post_event(const ctx_ptr& ctx, uint64_t id);
void handle_events_batch(const ctx_ptr& ctx);
// gateway/score_routes.cpp
void handle_get_score(const ctx_ptr& ctx, uint64_t id);
void handle_score_history(const ctx_ptr& ctx, uint64_t id);
void handle_get_scoring_model(const ctx_ptr& ctx);
void handle_put_scoring_model(const ctx_ptr& ctx);
void handle_list_model_versions(const ctx_ptr& ctx);
void handle_preview_model(const ctx_ptr& ctx);
void handle_activate_model(const ctx_ptr& ctx, std::string_view version);
void handle_get_job(const ctx_ptr& ctx, std::string_view id);
void handle_score_stateless(const ctx_ptr& ctx);
// gateway/stream_routes.cpp
void handle_stream(const ctx_ptr& ctx);
void handle_stream_token(const ctx_ptr& ctx);
// gateway/webhook_routes.cpp
void handle_create_webhook(const ctx_ptr& ctx);
void handle_list_webhooks(const ctx_ptr& ctx);
void handle_get_webhook(const ctx_ptr& ctx, std::string_view id);
void handle_patch_webhook(const ctx_ptr& ctx, std::string_view id);
void handle_delete_webhook(const ctx_ptr& ctx, std::string_view id);
void handle_list_deliveries(const ctx_ptr& ctx, std::string_view id);
void handle_replay_deliveries(const ctx_ptr& ctx, std::string_view id);
void handle_list_jobs(const ctx_ptr& ctx);
// gateway/model_routes.cpp (predictive models)
void handle_train_model(const ctx_ptr& ctx);
void handle_list_models(const ctx_ptr& ctx);
void handle_get_model(const ctx_ptr& ctx, std::string_view version);
void handle_activate_predictive(const ctx_ptr& ctx, std::string_view version);
void handle_deactivate_predictive(const ctx_ptr& ctx);
// gateway/bulk_routes.cpp
std::shared_ptr<body_stream> handle_import_header(const ctx_ptr& ctx);
void handle_import(const ctx_ptr& ctx);
void handle_export(const ctx_ptr& ctx);
/// A lead object with its score (GET /v1/leads/{id}; gateway/lead_routes.cpp).
std::string scored_lead_json(const lead& l, const model_registry& models);
/// "a=1&b=2" → its parameters as sent ("a=1", "b=2"), empty ones left out.
std::vector<std::string_view> split_params(std::string_view query);
/// "a=1&b=2" → its percent-decoded pairs; nullopt (after answering 400
/// invalid_query) when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> query_pairs(const ctx_ptr& ctx);
/// Whether the caller's role may do `p`; answers 403 when not.
bool permitted(const ctx_ptr& ctx, permission p);
/// A model version (1, 2, ...) from a path segment, or 0 after answering
/// 400 invalid_id (gateway/score_routes.cpp, as the next one).
uint32_t model_version_of(const ctx_ptr& ctx, std::string_view text);
/// The answer to a request that starts a job (re-score, training): 202
/// with the job and a Location header to follow it, or the error.
std::function<void(caf::expected<std::shared_ptr<job>>)> job_started(const ctx_ptr& ctx);

} // namespace hotlead
