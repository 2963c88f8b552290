#include "gateway/metrics.hpp"

#include "actors/stats.hpp"
#include "persistence/journal.hpp"
#include "protocol/intern.hpp"

namespace hotlead {

std::string_view route_label(route_id r) {
  static constexpr std::string_view labels[] = {
    "GET /healthz",          "GET /readyz",          "GET /metrics",
    "POST /v1/orgs",         "POST /v1/orgs/{org}/keys", "GET /v1/orgs/{org}/keys",
    "DELETE /v1/orgs/{org}/keys/{id}", "GET /v1/leads",
    "POST /v1/leads",        "GET /v1/leads/{id}",   "PATCH /v1/leads/{id}",
    "DELETE /v1/leads/{id}", "POST /v1/leads/{id}/events", "POST /v1/events:batch",
    "POST /admin/snapshot",  "GET /v1/leads/{id}/score", "GET /v1/leads/{id}/score/history",
    "GET /v1/scoring-model", "PUT /v1/scoring-model", "GET /v1/scoring-model/versions",
    "POST /v1/scoring-model:preview", "POST /v1/scoring-model/{version}:activate",
    "GET /v1/jobs/{id}",     "POST /v1/score",       "POST /v1/leads:import",
    "GET /v1/leads:export",  "GET /v1/jobs",         "POST /v1/models:train",
    "GET /v1/models",        "GET /v1/models/{version}", "POST /v1/models/{version}:activate",
    "POST /v1/models:deactivate", "GET /v1/stream", "POST /v1/stream/tokens",
    "POST /v1/webhooks", "GET /v1/webhooks", "GET /v1/webhooks/{id}", "PATCH /v1/webhooks/{id}",
    "DELETE /v1/webhooks/{id}", "GET /v1/webhooks/{id}/deliveries",
    "POST /v1/webhooks/{id}/deliveries:replay", "unmatched"};
  static_assert(std::size(labels) == static_cast<size_t>(route_id::count_));
  return labels[static_cast<size_t>(r)];
}

void metrics::record(route_id r, unsigned status, double seconds) {
  size_t si = statuses.size() - 1;
  for (size_t i = 0; i + 1 < statuses.size(); ++i)
    if (statuses[i] == status)
      si = i;
  auto& st = mine();
  st.requests[static_cast<size_t>(r)][si].fetch_add(1, std::memory_order_relaxed);
  size_t b = buckets.size();
  for (size_t i = 0; i < buckets.size(); ++i)
    if (seconds <= buckets[i]) {
      b = i;
      break;
    }
  st.latency[b].fetch_add(1, std::memory_order_relaxed);
  st.latency_sum_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  st.latency_count.fetch_add(1, std::memory_order_relaxed);
}

metrics::stripe& metrics::mine() {
  // One stripe per thread for this metrics object (threads beyond
  // stripe_count share: still correct, only slower).
  thread_local const metrics* owner = nullptr;
  thread_local size_t index = 0;
  if (owner != this) {
    owner = this;
    index = next_stripe_.fetch_add(1, std::memory_order_relaxed) % stripe_count;
  }
  return stripes_[index];
}

uint64_t metrics::sum(counter stripe::*c) const {
  uint64_t v = 0;
  for (auto& st : stripes_)
    v += (st.*c).load(std::memory_order_relaxed);
  return v;
}

std::string metrics::render(const node_stats& ns, const journal_stats& js) const {
  std::string out;
  out.reserve(8192);
  auto line = [&](std::string_view name, std::string_view labels, uint64_t v) {
    out += name;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  };
  out += "# HELP hotlead_http_requests_total HTTP requests by route and status.\n"
         "# TYPE hotlead_http_requests_total counter\n";
  const size_t routes = stripes_[0].requests.size();
  for (size_t r = 0; r < routes; ++r)
    for (size_t s = 0; s < statuses.size(); ++s) {
      uint64_t v = 0;
      for (auto& st : stripes_)
        v += st.requests[r][s].load(std::memory_order_relaxed);
      if (v == 0)
        continue;
      std::string labels = "route=\"" + std::string{route_label(static_cast<route_id>(r))} +
                           "\",status=\"" +
                           (statuses[s] ? std::to_string(statuses[s]) : "other") + "\"";
      line("hotlead_http_requests_total", labels, v);
    }
  out += "# HELP hotlead_http_request_duration_seconds Time from request read to reply.\n"
         "# TYPE hotlead_http_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= buckets.size(); ++i) {
    for (auto& st : stripes_)
      cumulative += st.latency[i].load(std::memory_order_relaxed);
    std::string le = i < buckets.size() ? std::to_string(buckets[i]) : "+Inf";
    while (i < buckets.size() && le.find('.') != le.npos && le.back() == '0')
      le.pop_back();
    if (!le.empty() && le.back() == '.')
      le.pop_back();
    line("hotlead_http_request_duration_seconds_bucket", "le=\"" + le + "\"", cumulative);
  }
  out += "hotlead_http_request_duration_seconds_sum " +
         std::to_string(static_cast<double>(sum(&stripe::latency_sum_us)) / 1e6) + "\n";
  line("hotlead_http_request_duration_seconds_count", "", sum(&stripe::latency_count));
  out += "# HELP hotlead_leads Leads held in memory, per shard.\n# TYPE hotlead_leads gauge\n";
  for (size_t s = 0; s < ns.shard_count; ++s)
    line("hotlead_leads", "shard=\"" + std::to_string(s) + "\"",
         static_cast<uint64_t>(std::max<int64_t>(ns.leads[s].load(), 0)));
  out += "# HELP hotlead_events_total Activity events recorded since start.\n"
         "# TYPE hotlead_events_total counter\n";
  line("hotlead_events_total", "", ns.events.load());
  out += "# HELP hotlead_journal_commits_total RocksDB write batches (group commits).\n"
         "# TYPE hotlead_journal_commits_total counter\n";
  line("hotlead_journal_commits_total", "", js.commits.load());
  out += "# HELP hotlead_journal_writes_total Writes acknowledged through the journal.\n"
         "# TYPE hotlead_journal_writes_total counter\n";
  line("hotlead_journal_writes_total", "", js.writes.load());
  out += "# TYPE hotlead_journal_bytes_total counter\n";
  line("hotlead_journal_bytes_total", "", js.bytes.load());
  out += "# HELP hotlead_journal_failures_total Failed commits (answered 503).\n"
         "# TYPE hotlead_journal_failures_total counter\n";
  line("hotlead_journal_failures_total", "", js.failures.load());
  out += "# HELP hotlead_interned_names Distinct tags, sources, attribute keys and event types "
         "held (never freed; at most 16M).\n# TYPE hotlead_interned_names gauge\n";
  line("hotlead_interned_names", "", interned_count());
  out += "# TYPE hotlead_connections_active gauge\n";
  line("hotlead_connections_active", "",
       static_cast<uint64_t>(std::max<int64_t>(connections.load(), 0)));
  out += "# TYPE hotlead_connections_total counter\n";
  line("hotlead_connections_total", "", connections_total.load());
  out += "# TYPE hotlead_connections_refused_total counter\n";
  line("hotlead_connections_refused_total", "", connections_refused.load());
  return out;
}

} // namespace hotlead
