// Prometheus metrics of the edge: requests by route and status, a latency
// histogram, connections. Lock-free counters (relaxed atomics) updated by
// every io thread; render() writes the text exposition format, adding the
// gauges of the actors (leads per shard) and of the journal.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotlead {

struct node_stats;
struct journal_stats;

enum class route_id : uint8_t {
  healthz,
  readyz,
  metrics,
  create_org,
  create_key,
  list_keys,
  revoke_key,
  list_leads,
  create_lead,
  get_lead,
  patch_lead,
  delete_lead,
  post_event,
  post_events_batch,
  snapshot,
  get_score,
  score_history,
  get_scoring_model,
  put_scoring_model,
  list_model_versions,
  preview_model,
  activate_model,
  get_job,
  score_stateless,
  import_leads,
  export_leads,
  list_jobs,
  train_model,
  list_models,
  get_model,
  activate_predictive,
  deactivate_predictive,
  stream,
  stream_token,
  create_webhook,
  list_webhooks,
  get_webhook,
  patch_webhook,
  delete_webhook,
  list_deliveries,
  replay_deliveries,
  unmatched,
  count_
};

std::string_view route_label(route_id r);

class metrics {
public:
  static constexpr std::array<unsigned, 18> statuses = {
    200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503, 504, 0};
  static constexpr std::array<double, 14> buckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

  void record(route_id r, unsigned status, double seconds);
  std::string render(const node_stats& ns, const journal_stats& js) const;

  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<int64_t> in_flight{0};

private:
  using counter = std::atomic<uint64_t>;
  // Request counters are striped per thread (each io thread mostly hits its
  // own cache lines) and summed when rendered.
  struct alignas(64) stripe {
    std::array<std::array<counter, statuses.size()>, static_cast<size_t>(route_id::count_)>
      requests{};
    std::array<counter, buckets.size() + 1> latency{};
    counter latency_sum_us{0};
    counter latency_count{0};
  };
  static constexpr size_t stripe_count = 8;
  stripe& mine();
  uint64_t sum(counter stripe::*c) const;

  std::array<stripe, stripe_count> stripes_{};
  std::atomic<size_t> next_stripe_{0};
};

} // namespace hotlead
