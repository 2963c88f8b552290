// Long jobs (model re-scores, imports, training) and their
// progress, readable from any thread (GET /v1/jobs/{id}). Actors update a
// job's counters with atomics as they go; jobs live in memory only (a
// restart forgets them, not their effects: what a job changes is journaled).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/time.hpp"

namespace hotlead {

struct job {
  uint64_t id = 0;
  uint64_t org = 0;
  std::string kind;   // "rescore", "import", "train"
  std::string detail; // JSON members of the kind's own, e.g. "\"model_version\":3"
  millis started_at = 0;
  std::atomic<millis> finished_at{0};
  std::atomic<uint64_t> total{0};     // items known so far
  std::atomic<uint64_t> done{0};      // items done in memory
  std::atomic<uint64_t> persisted{0}; // items whose result is durable
  std::atomic<uint64_t> replayed{0};  // leads whose stored events were replayed
  std::atomic<uint64_t> rejected{0};  // items refused (an import's bad rows)
  std::atomic<int> parts_left{0};     // shards still working
  std::atomic<bool> failed{false};
  std::string error; // set once, before `failed`, by the first fail()
  std::string result; // a JSON value (a training's model), set before the last part_done()

  /// Called by each part when it is done (memory and persistence); the
  /// last one finishes the job.
  void part_done() {
    if (parts_left.fetch_sub(1) == 1)
      finished_at.store(now_ms());
  }

  /// Marks the job failed with its first reason (any thread).
  void fail(std::string why) {
    if (failing_.exchange(true))
      return;
    error = std::move(why);
    failed = true;
  }

  /// The job as JSON (GET /v1/jobs/{id}).
  std::string json() const;

private:
  std::atomic<bool> failing_{false};
};

class job_table {
public:
  std::shared_ptr<job> create(uint64_t org, std::string kind, std::string detail, int parts);
  /// The org's job, or null (another org's job looks missing).
  std::shared_ptr<job> find(uint64_t org, uint64_t id) const;
  /// The org's jobs, the most recent first, at most `limit`.
  std::vector<std::shared_ptr<job>> list(uint64_t org, size_t limit) const;

private:
  mutable std::mutex mtx_;
  std::map<uint64_t, std::shared_ptr<job>> jobs_; // the most recent max_jobs
};

} // namespace hotlead
