#include "gateway/import_stream.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "gateway/bridge.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace {

// A batch waits for its shards' journal writes; under a heavy load that can
// take longer than one request should (server.request_timeout).
constexpr std::chrono::milliseconds batch_deadline{120'000};

std::string_view mode_name(msg::upsert_mode m) {
  switch (m) {
    case msg::upsert_mode::email:
      return "email";
    case msg::upsert_mode::external_id:
      return "external_id";
    case msg::upsert_mode::none:
      break;
  }
  return "none";
}

} // namespace

import_stream::import_stream(edge_env& env, bridge& br, principal who, options o,
                             std::shared_ptr<job> j)
  : env_(env), br_(br), who_(std::move(who)), opts_(std::move(o)), job_(std::move(j)) {
  csv_sink_ = [this](const csv_reader::record& r) { on_record(r); };
  batch_.org = who_.org;
  batch_.mode = opts_.mode;
}

import_stream::~import_stream() {
  if (!body_done_) { // the body never completed: the client went away or timed out
    job_->fail("the upload ended before the body was complete (the client disconnected or "
               "stopped sending); rows received before that were imported");
    job_->part_done();
  }
}

void import_stream::write(std::string_view bytes) {
  if (fatal_)
    return; // nothing more is imported; the body is read to its end and answered
  if (opts_.fmt == format::csv) {
    csv_.feed(bytes, csv_sink_);
  } else {
    while (!bytes.empty()) {
      auto nl = bytes.find('\n');
      auto part = bytes.substr(0, nl);
      if (!line_too_long_) {
        if (line_.size() + part.size() > max_line_bytes)
          line_too_long_ = true;
        else
          line_.append(part);
      }
      if (nl == bytes.npos)
        break;
      on_line(line_);
      line_.clear();
      line_too_long_ = false;
      bytes.remove_prefix(nl + 1);
    }
  }
}

void import_stream::on_record(const csv_reader::record& r) {
  if (fatal_)
    return;
  if (plan_.empty()) { // the header row
    if (!r.error.empty())
      fatal_ = problem{errc::invalid_field, "the CSV header row: " + std::string{r.error}};
    else if (auto p = import_plan(r.cells, opts_.mapping, plan_))
      fatal_ = std::move(*p);
    return;
  }
  ++rows_;
  job_->total.fetch_add(1, std::memory_order_relaxed);
  if (!r.error.empty())
    return reject(r.row, problem{errc::invalid_field, std::string{r.error}});
  lead_patch patch;
  if (auto p = row_patch(plan_, r.cells, env_.lim, scratch_, patch))
    return reject(r.row, std::move(*p));
  add(r.row, std::move(patch));
}

void import_stream::on_line(std::string_view line) {
  ++line_no_;
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == line.npos && !line_too_long_)
    return; // blank lines are allowed (a trailing newline, or spacing)
  ++rows_;
  job_->total.fetch_add(1, std::memory_order_relaxed);
  if (line_too_long_)
    return reject(line_no_, problem{errc::invalid_field,
                                    "the line is longer than " + std::to_string(max_line_bytes) +
                                      " bytes"});
  lead_patch patch;
  if (auto p = parse_lead(line, false, env_.lim, patch))
    return reject(line_no_, std::move(*p));
  add(line_no_, std::move(patch));
}

void import_stream::add(uint64_t row, lead_patch patch) {
  batch_.rows.push_back({row, std::move(patch)});
  if (batch_.rows.size() >= batch_rows)
    send_batch();
}

void import_stream::reject(uint64_t row, problem p) {
  ++failed_;
  job_->rejected.fetch_add(1, std::memory_order_relaxed);
  job_->done.fetch_add(1, std::memory_order_relaxed);
  if (errors_.size() < max_listed_errors)
    errors_.emplace_back(row, std::move(p));
}

void import_stream::send_batch() {
  if (batch_.rows.empty())
    return;
  ++in_flight_;
  auto rows = batch_.rows.size();
  batch_.now = now_ms();
  auto next = msg::import_rows{who_.org, opts_.mode, {}, 0};
  next.rows.reserve(batch_rows);
  auto sent = std::exchange(batch_, std::move(next));
  br_.request_within<msg::import_outcome>(
    batch_deadline, who_.org_actor,
    [self = shared_from_this(), rows](caf::expected<msg::import_outcome> r) {
      self->on_outcome(rows, r);
    },
    std::move(sent));
}

void import_stream::on_outcome(size_t rows, caf::expected<msg::import_outcome>& r) {
  --in_flight_;
  if (r) {
    created_ += r->created;
    updated_ += r->updated;
    unchanged_ += r->unchanged;
    job_->persisted.fetch_add(r->created + r->updated + r->unchanged, std::memory_order_relaxed);
    job_->done.fetch_add(r->created + r->updated + r->unchanged, std::memory_order_relaxed);
    for (auto& [row, p] : r->errors)
      reject(row, std::move(p));
  } else {
    // The batch's outcome is unknown (a timeout) or it failed as a whole.
    auto p = to_problem(r.error());
    failed_ += rows;
    job_->rejected.fetch_add(rows, std::memory_order_relaxed);
    job_->done.fetch_add(rows, std::memory_order_relaxed);
    if (errors_.size() < max_listed_errors)
      errors_.emplace_back(0, problem{p.code, "a batch of " + std::to_string(rows) +
                                                " rows was not confirmed: " + p.detail});
  }
  if (auto resume = std::exchange(resume_, nullptr); resume && !paused())
    resume();
  maybe_answer();
}

void import_stream::finish(const ctx_ptr& ctx) {
  body_done_ = true;
  answer_to_ = ctx;
  if (opts_.fmt == format::csv) {
    csv_.finish(csv_sink_);
    if (plan_.empty() && !fatal_)
      fatal_ = problem{errc::invalid_field,
                       "the body is empty; a CSV import starts with a header row naming the "
                       "columns"};
  } else if (!line_.empty() || line_too_long_) {
    on_line(line_);
    line_.clear();
  }
  if (!fatal_)
    send_batch();
  maybe_answer();
}

void import_stream::maybe_answer() {
  if (!answer_to_ || in_flight_ > 0)
    return;
  // The context holds this stream: let go of it, or neither is ever freed.
  auto ctx = std::exchange(answer_to_, nullptr);
  if (fatal_) {
    job_->fail(fatal_->detail);
    job_->part_done();
    return ctx->fail(*fatal_);
  }
  job_->part_done();
  ctx->reply_json(200, report());
}

std::string import_stream::report() const {
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto& a, auto& b) { return a.first < b.first; });
  std::string out = "{\"job\":\"" + id_to_hex(job_->id) + "\",\"format\":\"";
  out += opts_.fmt == format::csv ? "csv" : "ndjson";
  out += "\",\"upsert\":\"";
  out += mode_name(opts_.mode);
  out += "\",\"rows\":" + std::to_string(rows_) + ",\"created\":" + std::to_string(created_) +
         ",\"updated\":" + std::to_string(updated_) +
         ",\"unchanged\":" + std::to_string(unchanged_) + ",\"failed\":" +
         std::to_string(failed_) + ",\"errors\":[";
  for (size_t i = 0; i < sorted.size(); ++i) {
    auto& [row, p] = sorted[i];
    if (i)
      out += ',';
    out += "{\"row\":";
    out += row ? std::to_string(row) : "null";
    out += ",\"code\":\"";
    out += code_name(p.code);
    out += "\",\"detail\":";
    append_json_string(out, p.detail);
    out += '}';
  }
  out += "],\"errors_truncated\":";
  out += failed_ > sorted.size() ? "true" : "false";
  out += '}';
  return out;
}

} // namespace hotlead
