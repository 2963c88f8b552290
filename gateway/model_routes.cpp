// Predictive model endpoints: train (a job; the request is answered once the
// labelled leads are counted), list and read versions, activate one (or two
// split A/B) and deactivate. Reads run on the io thread (versions are
// immutable once stored); changes go to the org actor, which journals them.
#include <caf/all.hpp>

#include "actors/jobs.hpp"
#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "protocol/features.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"

namespace hotlead {

void handle_train_model(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::manage_keys)) // admins change how the org scores
    return;
  auto req = std::make_shared<train_request>();
  if (auto p = parse_train_request(ctx->req.body, *req))
    return ctx->fail(*p);
  ctx->br.request<std::shared_ptr<job>>(ctx->who.org_actor, job_started(ctx),
                                        msg::train_model{ctx->who.org, std::move(req)});
}

void handle_list_models(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto& reg = ctx->env.models->predictive;
  auto org = ctx->who.org;
  std::string body = "{\"active\":" + to_json(reg.active(org)) + ",\"data\":[";
  auto versions = reg.versions(org);
  for (size_t i = 0; i < versions.size(); ++i) {
    if (i)
      body += ',';
    body += reg.entry_json(org, *versions[i], false);
  }
  body += "]}";
  ctx->reply_json(200, std::move(body));
}

void handle_get_model(const ctx_ptr& ctx, std::string_view version) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto v = model_version_of(ctx, version);
  if (!v)
    return;
  auto& reg = ctx->env.models->predictive;
  auto* e = reg.find(ctx->who.org, v);
  if (!e)
    return ctx->fail(errc::not_found, "no predictive model version " + std::to_string(v) +
                                        "; GET /v1/models lists them");
  ctx->reply_json(200, reg.entry_json(ctx->who.org, *e, true));
}

namespace {

void set_active(const ctx_ptr& ctx, const msg::activate_predictive& m) {
  ctx->br.request<std::string>(
    ctx->who.org_actor,
    [ctx](caf::expected<std::string> r) {
      if (!r)
        return ctx->fail(r.error());
      ctx->reply_json(200, "{\"active\":" + *r + "}");
    },
    m);
}

} // namespace

void handle_activate_predictive(const ctx_ptr& ctx, std::string_view version) {
  if (!permitted(ctx, permission::manage_keys))
    return;
  msg::activate_predictive m{ctx->who.org, model_version_of(ctx, version), 0, 0};
  if (!m.version)
    return;
  if (auto p = parse_model_activation(ctx->req.body, m.split_version, m.split_percent))
    return ctx->fail(*p);
  if (m.split_version == m.version)
    return ctx->fail(errc::invalid_field, "field 'split.version' must differ from the "
                                          "activated version (" +
                                            std::to_string(m.version) + ")");
  set_active(ctx, m);
}

void handle_deactivate_predictive(const ctx_ptr& ctx) {
  if (permitted(ctx, permission::manage_keys))
    set_active(ctx, {ctx->who.org, 0, 0, 0});
}

} // namespace hotlead
