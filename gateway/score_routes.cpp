// Scoring endpoints: a lead's score and its history, the org's scoring model
// (read, store a version, list versions, preview, activate), jobs, and
// stateless scoring. Reads run on the io thread (models are immutable once
// stored, leads are read under their shard's read lock); model changes go
// to the org actor, which serializes them and starts re-score jobs.
#include <caf/all.hpp>

#include <charconv>

#include "actors/jobs.hpp"
#include "actors/messages.hpp"
#include "actors/model_registry.hpp"
#include "actors/router.hpp"
#include "gateway/bridge.hpp"
#include "gateway/context.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/score.hpp"

namespace hotlead {

namespace {

std::string score_json(const lead& l, const model_registry& models) {
  // The version the lead's state is in terms of (the old one while a
  // re-score has not reached it yet).
  auto& e = models.of(l.org, l.model_version);
  auto now = now_ms();
  std::string out;
  out.reserve(400);
  write_score(out, score_of(e.model, l, l.engagement, now), e.version, now,
              models.predictive.predict(l));
  return out;
}

std::string exists_json(const lead&, const model_registry&) {
  return {};
}

void no_lead(const ctx_ptr& ctx, uint64_t id) {
  ctx->fail(errc::not_found, "no lead with id " + id_to_hex(id));
}

std::optional<uint64_t> query_uint(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto part = query.substr(pos, amp == query.npos ? query.npos : amp - pos);
    if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=') {
      auto v = part.substr(name.size() + 1);
      uint64_t out = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec != std::errc{} || p != v.data() + v.size())
        return std::nullopt;
      return out;
    }
    if (amp == query.npos)
      break;
    pos = amp + 1;
  }
  return std::nullopt;
}

} // namespace

void handle_get_score(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::read_leads))
    return;
  ctx->br.read_lead(ctx->env.rt->table_for(id), ctx->who.org, id, *ctx->env.models, score_json,
                    [ctx](uint64_t id, std::string* body) {
                      if (!body)
                        return no_lead(ctx, id);
                      ctx->reply_json(200, std::move(*body));
                    });
}

void handle_score_history(const ctx_ptr& ctx, uint64_t id) {
  if (!permitted(ctx, permission::read_leads))
    return;
  size_t limit = 50;
  if (!ctx->query.empty()) {
    auto n = query_uint(ctx->query, "limit");
    if (!n || *n < 1 || *n > 100)
      return ctx->fail(errc::invalid_query, "?limit= takes 1 to 100 (entries, newest first); "
                                            "a lead keeps its last 100");
    limit = *n;
  }
  ctx->br.read_lead(ctx->env.rt->table_for(id), ctx->who.org, id, *ctx->env.models, exists_json,
                    [ctx, limit](uint64_t id, std::string* found) {
                      if (!found)
                        return no_lead(ctx, id);
                      // The history column family has a skiplist memtable:
                      // a read here is a seek, not a sort (store.cpp).
                      auto entries = ctx->env.db.read_history(id, limit);
                      std::string body = "{\"lead_id\":\"";
                      append_id(body, id);
                      body += "\",\"data\":[";
                      for (size_t i = 0; i < entries.size(); ++i) {
                        if (i)
                          body += ',';
                        body += entries[i];
                      }
                      body += "]}";
                      ctx->reply_json(200, std::move(body));
                    });
}

void handle_get_scoring_model(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto& e = ctx->env.models->active(ctx->who.org);
  ctx->reply_json(200, model_version_json(e, true));
}

void handle_list_model_versions(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto& models = *ctx->env.models;
  auto active = models.active(ctx->who.org).version;
  std::string body = "{\"active\":" + std::to_string(active) + ",\"data\":[";
  auto versions = models.versions(ctx->who.org);
  for (size_t i = 0; i < versions.size(); ++i) {
    if (i)
      body += ',';
    body += model_version_json(*versions[i], versions[i]->version == active, false);
  }
  body += "]}";
  ctx->reply_json(200, std::move(body));
}

void handle_put_scoring_model(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::manage_keys)) // admins change how the org scores
    return;
  auto model = std::make_shared<scoring_model>();
  if (auto p = parse_scoring_model(ctx->req.body, *model))
    return ctx->fail(*p);
  ctx->br.request<std::string>(
    ctx->who.org_actor,
    [ctx](caf::expected<std::string> r) {
      if (!r)
        return ctx->fail(r.error());
      ctx->reply_json(201, std::move(*r));
    },
    msg::put_model{ctx->who.org, ctx->req.body, std::move(model)});
}

void handle_activate_model(const ctx_ptr& ctx, std::string_view version) {
  if (!permitted(ctx, permission::manage_keys))
    return;
  auto v = model_version_of(ctx, version);
  if (!v)
    return;
  ctx->br.request<std::shared_ptr<job>>(ctx->who.org_actor, job_started(ctx),
                                        msg::activate_model{ctx->who.org, v});
}

void handle_preview_model(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto model = std::make_shared<scoring_model>();
  if (auto p = parse_scoring_model(ctx->req.body, *model))
    return ctx->fail(*p);
  struct gather {
    size_t waiting;
    std::optional<caf::error> err;
    msg::preview_part sum;
    std::shared_ptr<const scoring_model> proposed;
  };
  auto& shards = ctx->env.rt->shards();
  auto g = std::make_shared<gather>(gather{shards.size(), std::nullopt, {}, model});
  auto side_json = [](std::string& out, const msg::preview_part::side& s, uint64_t leads,
                      const scoring_model& m, uint32_t version) {
    out += "{\"model_version\":";
    out += version ? std::to_string(version) : "null";
    out += ",\"mean\":";
    out += format_points(leads ? s.sum / static_cast<centipoints>(leads) : 0);
    out += ",\"grades\":{";
    for (size_t i = 0; i < 4; ++i) {
      out += i ? ",\"" : "\"";
      out += static_cast<char>('A' + i);
      out += "\":" + std::to_string(s.grades[i]);
    }
    out += "},\"histogram\":[";
    auto span = m.max - m.min;
    for (size_t b = 0; b < msg::preview_part::buckets; ++b) {
      auto lo = m.min + span * static_cast<centipoints>(b) / msg::preview_part::buckets;
      auto hi = m.min + span * static_cast<centipoints>(b + 1) / msg::preview_part::buckets;
      out += b ? ",{\"from\":" : "{\"from\":";
      out += format_points(lo) + ",\"to\":" + format_points(hi) +
             ",\"leads\":" + std::to_string(s.histogram[b]) + "}";
    }
    out += "]}";
  };
  for (auto& shard : shards)
    ctx->br.request<msg::preview_part>(
      shard,
      [ctx, g, side_json](caf::expected<msg::preview_part> r) {
        if (!r) {
          g->err = r.error();
        } else {
          auto& s = g->sum;
          s.leads += r->leads;
          s.grade_changes += r->grade_changes;
          s.estimated += r->estimated;
          for (auto [to, from] : {std::pair{&s.current, &r->current},
                                  std::pair{&s.proposed, &r->proposed}}) {
            to->sum += from->sum;
            for (size_t i = 0; i < 4; ++i)
              to->grades[i] += from->grades[i];
            for (size_t i = 0; i < msg::preview_part::buckets; ++i)
              to->histogram[i] += from->histogram[i];
          }
        }
        if (--g->waiting > 0)
          return;
        if (g->err)
          return ctx->fail(*g->err);
        auto& active = ctx->env.models->active(ctx->who.org);
        std::string body = "{\"leads\":" + std::to_string(g->sum.leads) +
                           ",\"grade_changes\":" + std::to_string(g->sum.grade_changes) +
                           ",\"estimated\":" + std::to_string(g->sum.estimated) +
                           ",\"current\":";
        side_json(body, g->sum.current, g->sum.leads, active.model, active.version);
        body += ",\"proposed\":";
        side_json(body, g->sum.proposed, g->sum.leads, *g->proposed, 0);
        body += '}';
        ctx->reply_json(200, std::move(body));
      },
      msg::preview_scores{ctx->who.org, model});
}

void handle_get_job(const ctx_ptr& ctx, std::string_view id_text) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto id = parse_id(id_text);
  if (!id)
    return ctx->fail(errc::invalid_id, "'" + std::string{id_text.substr(0, 64)} +
                                         "' is not a job id; ids are 16 hex digits");
  auto j = ctx->env.jobs->find(ctx->who.org, *id);
  if (!j)
    return ctx->fail(errc::not_found, "no job with id " + id_to_hex(*id) +
                                        " (jobs are kept in memory until a restart)");
  ctx->reply_json(200, j->json());
}

uint32_t model_version_of(const ctx_ptr& ctx, std::string_view text) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v == 0) {
    ctx->fail(errc::invalid_id, "'" + std::string{text.substr(0, 32)} +
                                  "' is not a model version; versions are 1, 2, ...");
    return 0;
  }
  return v;
}

std::function<void(caf::expected<std::shared_ptr<job>>)> job_started(const ctx_ptr& ctx) {
  return [ctx](caf::expected<std::shared_ptr<job>> r) {
    if (!r)
      return ctx->fail(r.error());
    http_reply rep;
    rep.status = 202;
    rep.body = (*r)->json();
    rep.headers.emplace_back("Location", "/v1/jobs/" + id_to_hex((*r)->id));
    ctx->reply(std::move(rep));
  };
}

void handle_list_jobs(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  std::string body = "{\"data\":[";
  bool first = true;
  for (auto& j : ctx->env.jobs->list(ctx->who.org, 100)) {
    if (!first)
      body += ',';
    first = false;
    body += j->json();
  }
  body += "]}";
  ctx->reply_json(200, std::move(body));
}

void handle_score_stateless(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto now = now_ms();
  lead_patch patch;
  std::vector<event_input> events;
  if (auto p = parse_score_request(ctx->req.body, ctx->env.lim, now, patch, events))
    return ctx->fail(*p);
  // Nothing is stored and no actor is involved: the active model is
  // immutable and read here, on the io thread.
  auto& e = ctx->env.models->active(ctx->who.org);
  lead l;
  l.org = ctx->who.org;
  apply(l, patch);
  std::sort(events.begin(), events.end(),
            [](const event_input& a, const event_input& b) { return a.ts < b.ts; });
  l.counters.reserve(events.size());
  l.engagement.reserve(e.model.engagement.size());
  for (auto& ev : events) {
    record_event(l, ev);
    score_event(e.model, l, ev);
  }
  std::string body;
  body.reserve(400);
  // A payload has no id: under an A/B split it takes arm A's model.
  write_score(body, score_of(e.model, l, l.engagement, now), e.version, now,
              ctx->env.models->predictive.predict(l));
  ctx->reply_json(200, std::move(body));
}

} // namespace hotlead
