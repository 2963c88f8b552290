#include "actors/jobs.hpp"

#include <algorithm>

#include "persistence/journal.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace {
constexpr size_t max_jobs = 1000;
}

std::string job::json() const {
  auto fin = finished_at.load();
  bool bad = failed.load();
  std::string out = "{\"id\":\"";
  append_id(out, id);
  out += "\",\"kind\":";
  append_json_string(out, kind);
  out += ",\"state\":\"";
  out += bad ? "failed" : fin ? "done" : "running";
  out += "\",";
  if (!detail.empty())
    out += detail + ",";
  out += "\"total\":" + std::to_string(total.load()) + ",\"done\":" + std::to_string(done.load()) +
         ",\"persisted\":" + std::to_string(persisted.load()) +
         ",\"replayed\":" + std::to_string(replayed.load()) +
         ",\"rejected\":" + std::to_string(rejected.load()) + ",\"started_at\":\"";
  append_time(out, started_at);
  out += "\",\"finished_at\":";
  if (fin) {
    out += '"';
    append_time(out, fin);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"seconds\":";
  append_json_number(out, static_cast<double>((fin ? fin : now_ms()) - started_at) / 1000);
  if (fin && !bad && !result.empty()) {
    out += ",\"result\":";
    out += result;
  }
  out += ",\"error\":";
  if (bad)
    append_json_string(out, error);
  else
    out += "null";
  out += '}';
  return out;
}

std::shared_ptr<job> job_table::create(uint64_t org, std::string kind, std::string detail,
                                       int parts) {
  auto j = std::make_shared<job>();
  j->id = new_id();
  j->org = org;
  j->kind = std::move(kind);
  j->detail = std::move(detail);
  j->started_at = now_ms();
  j->parts_left = parts;
  if (parts == 0)
    j->finished_at = j->started_at;
  std::lock_guard lock{mtx_};
  jobs_[j->id] = j;
  while (jobs_.size() > max_jobs) { // forget the oldest finished ones
    auto victim = jobs_.end();
    for (auto i = jobs_.begin(); i != jobs_.end(); ++i)
      if (i->second->finished_at.load() &&
          (victim == jobs_.end() || i->second->started_at < victim->second->started_at))
        victim = i;
    if (victim == jobs_.end())
      break;
    jobs_.erase(victim);
  }
  return j;
}

std::shared_ptr<job> job_table::find(uint64_t org, uint64_t id) const {
  std::lock_guard lock{mtx_};
  auto i = jobs_.find(id);
  if (i == jobs_.end() || i->second->org != org)
    return nullptr;
  return i->second;
}

std::vector<std::shared_ptr<job>> job_table::list(uint64_t org, size_t limit) const {
  std::vector<std::shared_ptr<job>> out;
  {
    std::lock_guard lock{mtx_};
    for (auto& [id, j] : jobs_)
      if (j->org == org)
        out.push_back(j);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return a->started_at != b->started_at ? a->started_at > b->started_at : a->id > b->id;
  });
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

std::vector<std::shared_ptr<job>> job_table::all() const {
  std::vector<std::shared_ptr<job>> out;
  std::lock_guard lock{mtx_};
  out.reserve(jobs_.size());
  for (auto& [id, j] : jobs_)
    out.push_back(j);
  return out;
}

// -- job_reporter -------------------------------------------------------------------

job_reporter::job_reporter(job_table& jobs, journal& jr, std::chrono::milliseconds every)
  : jobs_(jobs), jr_(jr), every_(every), thread_([this] { run(); }) {}

job_reporter::~job_reporter() {
  stop();
}

void job_reporter::stop() {
  {
    std::lock_guard lock{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void job_reporter::run() {
  std::unique_lock lock{mtx_};
  while (!stopping_) {
    cv_.wait_for(lock, every_, [this] { return stopping_; });
    lock.unlock();
    report();
    lock.lock();
  }
}

void job_reporter::report() {
  auto jobs = jobs_.all();
  std::unordered_map<uint64_t, reported> now;
  for (auto& j : jobs) {
    reported r{j->done.load(), j->persisted.load(), j->rejected.load(),
               j->finished_at.load() != 0 || j->failed.load()};
    auto i = reported_.find(j->id);
    bool changed = i == reported_.end() || (!i->second.finished && !(i->second == r));
    now[j->id] = r;
    if (!changed)
      continue;
    std::string m = "\"type\":\"job.progress\",\"job_id\":\"";
    append_id(m, j->id);
    m += "\",\"job\":";
    m += j->json();
    std::vector<write_op> ops;
    ops.push_back({write_op::feed, feed_op_key(j->org, j->id, feed_type::job_progress, 0, 0),
                   std::move(m)});
    jr_.append(std::move(ops), [](const std::optional<problem>&) {}, 0);
  }
  reported_ = std::move(now); // forgotten jobs drop out
}

} // namespace hotlead
