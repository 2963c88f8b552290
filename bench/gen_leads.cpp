// hotlead-gen: writes N realistic leads of one org straight into a data
// directory's RocksDB, through the same journal and key layout the server
// uses, so `hotlead serve` recovers them at its next start. Each lead gets
// its 8 text fields, source, status, 2 tags, 5 attributes and --events
// events (6 types, see bench/fixtures.hpp) recorded with record_event and
// scored with the default model (so the per-type counters and the
// engagement state are filled), plus the raw event
// records under keys::event, exactly as a shard writes them.
//
// The org (and a key for it) must already exist: create them once through
// the API (see bench/README.md), stop the server, then run this. The server
// must not be running on DIR (RocksDB holds a lock).
//
// --redis FILE (or -) also writes the same leads as Redis HSET commands in
// RESP, for `redis-cli --pipe`; --redis-only skips RocksDB entirely.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <memory>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/score.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "protocol/lead.hpp"
#include "protocol/time.hpp"

using namespace hotlead;

namespace {

constexpr const char* usage = R"(usage: hotlead-gen --data DIR --count N --org ORG_ID [options]

  --data DIR        data directory of a stopped hotlead (leads go to DIR/db)
  --count N         number of leads
  --org ID          the org (16 hex digits) that owns them; must exist in DIR
  --events E        events per lead (default 20)
  --seed S          data set seed: same seed, same leads and ids (default 1)
  --batch B         leads per journal append (default 500)
  --redis FILE      also write the leads as Redis HSET commands (RESP) to FILE, - = stdout
  --redis-only      only write the Redis commands (no --data, --org needed)
  --settle          compact the database at the end, as a server that has run a
                    while would have it (a job measured right after start then
                    does not share the disk with the compaction of the bulk load)
)";

lead to_lead(const bench::sample_lead& s, uint64_t org) {
  lead l;
  l.id = s.id;
  l.org = org;
  l.texts.assign({s.external_id, s.email, s.first_name, s.last_name, s.company, s.title,
                  s.phone, s.owner});
  l.source = intern(s.source);
  l.status = parse_status(s.status).value_or(lead_status::new_);
  for (auto& t : s.tags)
    l.tags.push_back(intern(t));
  for (auto& [name, v] : s.attributes) {
    attr_value value;
    if (auto* str = std::get_if<std::string>(&v))
      value = *str;
    else if (auto* d = std::get_if<double>(&v))
      value = *d;
    else
      value = std::get<bool>(v);
    l.attributes.push_back({intern(name), std::move(value)});
  }
  l.created_at = l.updated_at = s.created_at;
  return l;
}

void resp_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

// HSET lead:<id> with the 8 text fields, the 5 attributes and one field per
// event type: "count,first_ms,last_ms" (the per-type counters).
void redis_hset(std::string& out, const bench::sample_lead& s, const lead& l) {
  std::vector<std::pair<std::string, std::string>> f = {
    {"external_id", s.external_id}, {"email", s.email},   {"first_name", s.first_name},
    {"last_name", s.last_name},     {"company", s.company}, {"title", s.title},
    {"phone", s.phone},             {"owner", s.owner}};
  for (auto& [name, v] : s.attributes) {
    std::string text;
    if (auto* str = std::get_if<std::string>(&v))
      text = *str;
    else if (auto* d = std::get_if<double>(&v)) {
      append_json_number(text, *d);
    } else
      text = std::get<bool>(v) ? "true" : "false";
    f.emplace_back("attr:" + name, std::move(text));
  }
  for (auto& c : l.counters)
    f.emplace_back("count:" + std::string{symbol_name(c.type)},
                   std::to_string(c.count) + "," + std::to_string(c.first_at) + "," +
                     std::to_string(c.last_at));
  out += '*';
  out += std::to_string(2 + 2 * f.size());
  out += "\r\n";
  resp_bulk(out, "HSET");
  resp_bulk(out, "lead:" + id_to_hex(l.id));
  for (auto& [k, v] : f) {
    resp_bulk(out, k);
    resp_bulk(out, v);
  }
}

} // namespace

int main(int argc, char** argv) {
  std::string data, org_hex, redis_path;
  uint64_t count = 0, events = 20, seed = 1, batch = 500;
  bool redis_only = false, settle = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (a == "--redis-only") {
      redis_only = true;
      continue;
    }
    if (a == "--settle") {
      settle = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "hotlead-gen: %s needs a value\n%s", a.c_str(), usage);
      return 2;
    }
    std::string v = argv[++i];
    char* end = nullptr;
    auto num = [&] { return std::strtoull(v.c_str(), &end, 10); };
    if (a == "--data")
      data = v;
    else if (a == "--org")
      org_hex = v;
    else if (a == "--redis")
      redis_path = v;
    else if (a == "--count")
      count = num();
    else if (a == "--events")
      events = num();
    else if (a == "--seed")
      seed = num();
    else if (a == "--batch")
      batch = std::max<uint64_t>(1, num());
    else {
      std::fprintf(stderr, "hotlead-gen: unknown option %s\n%s", a.c_str(), usage);
      return 2;
    }
    if (end && *end) {
      std::fprintf(stderr, "hotlead-gen: %s takes a number, got %s\n", a.c_str(), v.c_str());
      return 2;
    }
  }
  if (redis_only && redis_path.empty())
    redis_path = "-";
  if (count == 0 || (!redis_only && (data.empty() || org_hex.empty()))) {
    std::fprintf(stderr, "hotlead-gen: --count, --data and --org are required\n%s", usage);
    return 2;
  }
  uint64_t org_id = 0;
  if (!redis_only) {
    auto parsed = parse_id(org_hex);
    if (!parsed) {
      std::fprintf(stderr, "hotlead-gen: --org must be 16 hex digits, got %s\n", org_hex.c_str());
      return 2;
    }
    org_id = *parsed;
  }

  FILE* redis = nullptr;
  if (!redis_path.empty()) {
    redis = redis_path == "-" ? stdout : std::fopen(redis_path.c_str(), "wb");
    if (!redis) {
      std::fprintf(stderr, "hotlead-gen: cannot write %s\n", redis_path.c_str());
      return 1;
    }
  }

  std::unique_ptr<store> db;
  std::unique_ptr<journal> jr;
  if (!redis_only) {
    std::optional<problem> err;
    db = store::open((std::filesystem::path{data} / "db").string(), err);
    if (!db) {
      std::fprintf(stderr, "hotlead-gen: %s\n", err->detail.c_str());
      return 1;
    }
    bool org_found = false;
    size_t org_keys = 0;
    if (auto e = db->scan_orgs([&](org&& o) { org_found |= o.id == org_id; })) {
      std::fprintf(stderr, "hotlead-gen: %s\n", e->detail.c_str());
      return 1;
    }
    if (auto e = db->scan_keys([&](api_key&& k) { org_keys += k.org == org_id; })) {
      std::fprintf(stderr, "hotlead-gen: %s\n", e->detail.c_str());
      return 1;
    }
    if (!org_found) {
      std::fprintf(stderr,
                   "hotlead-gen: no org %s in %s: create it first with POST /v1/orgs on a "
                   "server using this data directory, then stop the server\n",
                   org_hex.c_str(), data.c_str());
      return 1;
    }
    if (!org_keys)
      std::fprintf(stderr, "hotlead-gen: warning: org %s has no API key yet\n", org_hex.c_str());
    jr = std::make_unique<journal>(*db, /*sync=*/false);
  }

  // At most `max_inflight` appends queued, so memory stays bounded.
  constexpr int max_inflight = 4;
  std::mutex mtx;
  std::condition_variable cv;
  int inflight = 0;
  std::optional<problem> failure;

  const millis now = now_ms();
  const auto t0 = std::chrono::steady_clock::now();
  // Leads are scored as the server would score them: with the default
  // model, the version a fresh org is on (else the server re-scores every
  // lead, replaying its events, when it starts).
  scoring_model model;
  if (auto p = parse_scoring_model(default_scoring_model_json(), model)) {
    std::fprintf(stderr, "hotlead-gen: the default model does not parse: %s\n", p->detail.c_str());
    return 1;
  }
  uint64_t written_events = 0;
  uint64_t footprint_bytes = 0, record_bytes = 0, cap_engagement = 0, cap_counters = 0,
           cap_attrs = 0;
  std::vector<write_op> ops;
  std::string resp;
  for (uint64_t i = 0; i < count; ++i) {
    auto s = bench::make_sample(seed, i, events, now);
    lead l = to_lead(s, org_id);
    l.model_version = 1;
    for (auto& ev : s.events) {
      event_input in{ev.type, ev.ts, ev.properties_json};
      record_event(l, in);
      score_event(model, l, in);
      if (jr)
        ops.push_back({write_op::put, keys::event(l.id, l.event_seq - 1), event_record(in)});
    }
    written_events += s.events.size();
    if (jr) {
      write_op op{write_op::put, keys::lead(l.id), {}};
      encode(op.value, l);
      record_bytes += op.value.size();
      // Measure the lead as recovery rebuilds it: decoded from its record.
      lead back;
      if (decode(op.value, back)) {
        footprint_bytes += footprint(back);
        cap_engagement += back.engagement.capacity();
        cap_counters += back.counters.capacity();
        cap_attrs += back.attributes.capacity();
      }
      ops.push_back(std::move(op));
    }
    if (redis) {
      redis_hset(resp, s, l);
      if (resp.size() > (1 << 20)) {
        std::fwrite(resp.data(), 1, resp.size(), redis);
        resp.clear();
      }
    }
    if (jr && ((i + 1) % batch == 0 || i + 1 == count)) {
      std::unique_lock lk{mtx};
      cv.wait(lk, [&] { return inflight < max_inflight; });
      if (failure)
        break;
      ++inflight;
      lk.unlock();
      jr->append(std::move(ops), [&](const std::optional<problem>& e) {
        std::lock_guard g{mtx};
        if (e && !failure)
          failure = e;
        --inflight;
        cv.notify_all();
      });
      ops.clear();
    }
    if ((i + 1) % 100000 == 0)
      std::fprintf(stderr, "  %" PRIu64 " leads...\n", i + 1);
  }
  if (redis) {
    std::fwrite(resp.data(), 1, resp.size(), redis);
    if (redis != stdout)
      std::fclose(redis);
    else
      std::fflush(stdout);
  }
  if (jr) {
    {
      std::unique_lock lk{mtx};
      cv.wait(lk, [&] { return inflight == 0; });
    }
    jr->stop();
    auto t1 = std::chrono::steady_clock::now();
    if (settle) {
      std::fprintf(stderr, "  compacting...\n");
      db->compact();
    }
    db->close();
    if (failure) {
      std::fprintf(stderr, "hotlead-gen: write failed: %s\n", failure->detail.c_str());
      return 1;
    }
    auto secs = std::chrono::duration<double>(t1 - t0).count();
    auto total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "generated %" PRIu64 " leads (%" PRIu64 " events) for org %s in %.2f s "
                 "(%.0f leads/s; %.2f s with the final flush)\n",
                 count, written_events, org_hex.c_str(), secs, static_cast<double>(count) / secs,
                 total);
    auto per = [&](uint64_t v) { return static_cast<double>(v) / static_cast<double>(count); };
    std::fprintf(stderr,
                 "per lead as recovered (decoded): footprint() %.0f bytes = sizeof(lead) %zu + "
                 "heap (engagement state capacity %.1f x %zu B, counters %.1f x %zu B, attributes %.1f x "
                 "%zu B, long strings); plus the shard's hash-map node and bucket; encoded record "
                 "%.0f bytes\n",
                 per(footprint_bytes), sizeof(lead), per(cap_engagement), sizeof(engagement_state),
                 per(cap_counters), sizeof(event_counter), per(cap_attrs), sizeof(attribute),
                 per(record_bytes));
  } else {
    auto secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "generated %" PRIu64 " leads as Redis commands in %.2f s\n", count,
                 secs);
  }
  return 0;
}
