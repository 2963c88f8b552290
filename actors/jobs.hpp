// Long jobs (model re-scores, imports, training) and their
// progress, readable from any thread (GET /v1/jobs/{id}). Actors update a
// job's counters with atomics as they go; jobs live in memory only (a
// restart forgets them, not their effects: what a job changes is journaled).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
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
  /// Every job held.
  std::vector<std::shared_ptr<job>> all() const;

private:
  mutable std::mutex mtx_;
  std::map<uint64_t, std::shared_ptr<job>> jobs_; // the most recent max_jobs
};

class journal;

/// Puts the jobs' progress in the change feed (topic "jobs", webhook kind
/// "job.progress"): a message when a job is first seen, then at most every
/// `every` while its counters move, and one when it ends. Its own thread
/// polls the jobs' counters, so the workers that move them pay nothing.
class job_reporter {
public:
  job_reporter(job_table& jobs, journal& jr, std::chrono::milliseconds every);
  ~job_reporter();
  /// Reports what is left, then stops the thread (before the journal stops).
  void stop();

private:
  struct reported {
    uint64_t done = 0, persisted = 0, rejected = 0;
    bool finished = false;
    bool operator==(const reported&) const = default;
  };
  void run();
  void report();

  job_table& jobs_;
  journal& jr_;
  std::chrono::milliseconds every_;
  std::unordered_map<uint64_t, reported> reported_; // by job id
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace hotlead
