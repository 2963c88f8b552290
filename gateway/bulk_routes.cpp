// Bulk routes: POST /v1/leads:import (its body streamed into an
// import_stream, checked at the header) and GET /v1/leads:export (a
// body produced by an export_source). io thread.
#include <caf/all.hpp>

#include <algorithm>

#include "actors/jobs.hpp"
#include "actors/model_registry.hpp"
#include "actors/router.hpp"
#include "gateway/context.hpp"
#include "gateway/export_source.hpp"
#include "gateway/import_stream.hpp"
#include "protocol/query.hpp"

namespace hotlead {

namespace {

std::string_view base_type(std::string_view content_type) {
  auto base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ')
    base.remove_suffix(1);
  return base;
}

std::optional<import_stream::options> import_options(const ctx_ptr& ctx) {
  auto pairs = query_pairs(ctx);
  if (!pairs)
    return std::nullopt;
  import_stream::options o;
  auto ct = base_type(ctx->req.content_type);
  bool format_given = false;
  std::string mapping;
  for (auto& [k, v] : *pairs) {
    if (k == "format" && (v == "csv" || v == "ndjson")) {
      o.fmt = v == "csv" ? import_stream::format::csv : import_stream::format::ndjson;
      format_given = true;
    } else if (k == "upsert" && (v == "email" || v == "external_id" || v == "none")) {
      o.mode = v == "email"         ? msg::upsert_mode::email
               : v == "external_id" ? msg::upsert_mode::external_id
                                    : msg::upsert_mode::none;
    } else if (k == "mapping") {
      mapping = v;
    } else {
      ctx->fail(errc::invalid_query,
                "POST /v1/leads:import takes format=csv|ndjson, upsert=email|external_id|none "
                "and mapping=<JSON object>; got '" + k + "=" + v.substr(0, 64) + "'");
      return std::nullopt;
    }
  }
  if (!format_given) {
    if (ct == "text/csv")
      o.fmt = import_stream::format::csv;
    else if (ct == "application/x-ndjson")
      o.fmt = import_stream::format::ndjson;
    else {
      ctx->fail(errc::unsupported_media_type,
                "send the import with Content-Type: text/csv or application/x-ndjson (or "
                "?format=csv|ndjson)" +
                  (ct.empty() ? std::string{} : "; got " + std::string{ct}));
      return std::nullopt;
    }
  }
  if (!mapping.empty()) {
    if (o.fmt != import_stream::format::csv) {
      ctx->fail(errc::invalid_query, "mapping= applies to CSV imports; NDJSON rows are lead "
                                     "objects already");
      return std::nullopt;
    }
    if (auto p = parse_import_mapping(mapping, o.mapping)) {
      ctx->fail(*p);
      return std::nullopt;
    }
  }
  return o;
}

} // namespace

std::shared_ptr<body_stream> handle_import_header(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::write_leads))
    return nullptr;
  auto o = import_options(ctx);
  if (!o)
    return nullptr;
  auto j = ctx->env.jobs->create(ctx->who.org, "import",
                                 o->fmt == import_stream::format::csv ? "\"format\":\"csv\""
                                                                      : "\"format\":\"ndjson\"",
                                 1);
  return std::make_shared<import_stream>(ctx->env, ctx->br, ctx->who, std::move(*o),
                                         std::move(j));
}

void handle_import(const ctx_ptr& ctx) {
  auto s = std::dynamic_pointer_cast<import_stream>(ctx->stream);
  if (!s)
    return ctx->fail(errc::internal, "the import body was not streamed; retry");
  s->finish(ctx);
}

void handle_export(const ctx_ptr& ctx) {
  if (!permitted(ctx, permission::read_leads))
    return;
  auto fmt = export_source::format::ndjson;
  std::string rest; // the list filters, still encoded, for parse_list_query
  for (auto part : split_params(ctx->query)) {
    auto key = part.substr(0, part.find('='));
    if (key == "format") {
      auto v = part.substr(std::min(part.size(), key.size() + 1));
      if (v != "csv" && v != "ndjson")
        return ctx->fail(errc::invalid_query, "format must be ndjson or csv; got '" +
                                                std::string{v.substr(0, 64)} + "'");
      fmt = v == "csv" ? export_source::format::csv : export_source::format::ndjson;
    } else if (key == "limit" || key == "cursor" || key == "sort") {
      return ctx->fail(errc::invalid_query, "an export has every matching lead, unsorted; '" +
                                              std::string{key} + "' applies to GET /v1/leads");
    } else {
      if (!rest.empty())
        rest += '&';
      rest += part;
    }
  }
  list_query q;
  if (auto p = parse_list_query(rest, q))
    return ctx->fail(*p);
  q.org = ctx->who.org;
  http_reply r;
  r.content_type = fmt == export_source::format::csv ? "text/csv; charset=utf-8"
                                                     : "application/x-ndjson";
  auto src = std::make_shared<export_source>(*ctx->env.rt, *ctx->env.models, q, fmt);
  r.headers.emplace_back("X-Total-Count", std::to_string(src->leads()));
  r.headers.emplace_back("Content-Disposition", fmt == export_source::format::csv
                                                  ? "attachment; filename=\"leads.csv\""
                                                  : "attachment; filename=\"leads.ndjson\"");
  r.source = std::move(src);
  ctx->reply(std::move(r));
}

} // namespace hotlead
