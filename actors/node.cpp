#include "actors/node.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <chrono>
#include <unistd.h>
#include <mutex>
#include <thread>

#include "actors/catalog_actor.hpp"
#include "actors/jobs.hpp"
#include "actors/model_registry.hpp"
#include "actors/org_actor.hpp"
#include "actors/shard_actor.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"
#include "protocol/ids.hpp"
#include "protocol/score.hpp"

namespace hotlead {

namespace {

// What one recovery thread collected, bucketed by destination shard.
struct scan_part {
  std::vector<std::vector<lead>> per_shard;
  struct identity {
    uint64_t org, id;
    identity_key email, external_id; // zero keys when absent
    bool has_email, has_external_id;
  };
  std::vector<identity> identities;
};

// Watches the node's actors. An actor that exits for any reason other than
// a shutdown would leave its leads unreachable: instead of serving 503s for
// ever, the process stops (SIGTERM to itself: a graceful stop, so every
// acknowledged write is already in RocksDB) and its supervisor restarts it;
// recovery rebuilds memory in seconds.
caf::behavior watchdog(caf::event_based_actor* self, std::vector<caf::actor> watched) {
  for (auto& a : watched)
    self->monitor(a);
  self->set_down_handler([=](caf::down_msg& m) {
    if (m.reason == caf::exit_reason::user_shutdown || m.reason == caf::exit_reason::normal)
      return;
    component_log("shard")->critical(
      "an actor of this node failed ({}); stopping so a restart recovers from RocksDB",
      caf::to_string(m.reason));
    ::kill(::getpid(), SIGTERM);
  });
  return {[](caf::unit_t) {}};
}

// The predictive models and each org's active setting.
std::optional<problem> load_predictive(store& db, predictive_registry& reg) {
  std::optional<problem> bad;
  auto fail = [&bad](uint64_t org, std::string what) {
    if (!bad)
      bad = problem{errc::storage_error,
                    "predictive models of org " + id_to_hex(org) + ": " + std::move(what)};
  };
  if (auto err = db.scan_predictive([&](store::stored_model&& m) {
        std::string why;
        auto e = parse_predictive_record(m.version, m.created_at, m.json, &why);
        if (!e)
          fail(m.org, "version " + std::to_string(m.version) + " no longer parses (" + why + ")");
        else if (m.version != reg.next_version(m.org))
          fail(m.org, "a gap before version " + std::to_string(m.version));
        else
          reg.add(m.org, std::move(*e));
      }))
    return err;
  if (bad)
    return bad;
  if (auto err = db.scan_active_predictive([&](uint64_t org, std::string_view text) {
        auto s = parse_setting_record(text);
        if (!s)
          fail(org, "the active setting '" + std::string{text.substr(0, 40)} + "' does not parse");
        else
          reg.activate(org, *s);
      }))
    return err;
  return bad;
}

} // namespace

node::node(caf::actor_system& sys, store& db, journal& jr, node_options opts)
  : sys_(sys), db_(db), jr_(jr), opts_(opts), stats_(new node_stats(opts.shards)),
    models_(std::make_shared<model_registry>()), jobs_(std::make_shared<job_table>()) {
}

node::~node() {
  stop();
}

std::optional<problem> node::start(recovery_report& report, std::vector<recovered_key>& keys) {
  auto t0 = std::chrono::steady_clock::now();
  auto cat = std::make_shared<catalog_init>();
  cat->jr = &jr_;
  cat->models = models_;
  cat->jobs = jobs_;
  if (auto err = db_.scan_orgs([&](org&& o) { cat->orgs.emplace(o.id, std::move(o)); }))
    return err;
  // Scoring models before leads: replayed events are scored with them.
  std::optional<problem> model_err;
  if (auto err = db_.scan_models([&](store::stored_model&& m) {
        model_entry e;
        e.version = m.version;
        e.created_at = m.created_at;
        e.json = std::move(m.json);
        if (auto p = parse_scoring_model(e.json, e.model); p && !model_err)
          model_err = problem{errc::storage_error, "stored scoring model version " +
                                                     std::to_string(m.version) + " of org " +
                                                     id_to_hex(m.org) + " no longer parses (" +
                                                     p->detail + ")"};
        auto expected = models_->stored(m.org) ? models_->versions(m.org).size() + 1 : 1;
        if (e.version == expected)
          models_->add(m.org, std::move(e));
        else if (!model_err)
          model_err = problem{errc::storage_error, "scoring model versions of org " +
                                                     id_to_hex(m.org) + " have a gap before " +
                                                     std::to_string(m.version)};
      }))
    return err;
  if (model_err)
    return model_err;
  if (auto err = db_.scan_active_models(
        [&](uint64_t org, uint32_t v) { models_->activate(org, v); }))
    return err;
  if (auto err = load_predictive(db_, models_->predictive))
    return err;
  // Leads: parallel scans, each bucketing by shard; then one build per shard.
  const size_t n = opts_.shards, threads = std::max<size_t>(opts_.recovery_threads, 1);
  std::vector<scan_part> parts(threads);
  for (auto& p : parts)
    p.per_shard.resize(n);
  uint64_t count = 0;
  auto err = db_.scan_leads(
    threads,
    [&](size_t t, lead&& l) {
      auto& p = parts[t];
      auto email = l.email(), external_id = l.external_id();
      if (!email.empty() || !external_id.empty())
        p.identities.push_back({l.org, l.id, make_identity_key(email),
                                make_identity_key(external_id), !email.empty(),
                                !external_id.empty()});
      p.per_shard[router::shard_index(l.id, n)].push_back(std::move(l));
    },
    count);
  if (err)
    return err;
  std::vector<std::shared_ptr<shard_init>> inits(n);
  std::vector<std::thread> builders;
  for (size_t s = 0; s < n; ++s)
    builders.emplace_back([&, s] {
      auto init = std::make_shared<shard_init>();
      size_t total = 0;
      for (auto& p : parts)
        total += p.per_shard[s].size();
      lead_table::map leads;
      leads.reserve(total + total / 4);
      for (auto& p : parts)
        for (auto& l : p.per_shard[s]) {
          auto id = l.id;
          leads.emplace(id, std::move(l));
        }
      init->table = std::make_shared<lead_table>(std::move(leads));
      inits[s] = std::move(init);
    });
  for (auto& b : builders)
    b.join();
  // Leads whose record is behind their events: replay the tails.
  uint64_t tail_leads = 0, tail_events = 0;
  std::optional<problem> tail_err;
  if (auto e = db_.scan_tails([&](uint64_t id) {
        auto& init = *inits[router::shard_index(id, n)];
        auto& leads = init.table->leads();
        auto i = leads.find(id);
        if (i == leads.end() || tail_err)
          return; // no such lead: nothing to replay
        auto seq = i->second.event_seq;
        auto& reg = *models_;
        if ((tail_err = db_.replay_tail(
               i->second, [&reg](lead& l, const event_input& ev) { replay_event(reg, l, ev); })))
          return;
        ++tail_leads;
        tail_events += i->second.event_seq - seq;
        init.tails.push_back(id);
      }))
    return e;
  if (tail_err)
    return tail_err;
  report.tail_leads = tail_leads;
  report.tail_events = tail_events;
  std::vector<caf::actor> shards;
  std::vector<std::shared_ptr<const lead_table>> tables;
  for (size_t s = 0; s < n; ++s) {
    auto& init = *inits[s];
    init.index = s;
    init.jr = &jr_;
    init.db = &db_;
    init.models = models_;
    init.stats = stats_.get();
    init.lim = opts_.lim;
    init.max_events_per_lead = opts_.max_events_per_lead;
    init.sweep_interval = opts_.sweep_interval;
    init.thresholds = opts_.thresholds;
    stats_->leads[s] = static_cast<int64_t>(init.table->leads().size());
    tables.push_back(init.table);
    shards.push_back(spawn_shard(sys_, inits[s]));
  }
  router_ = std::make_unique<router>(shards, std::move(tables));
  all_ = shards;
  // Org directories.
  std::unordered_map<uint64_t, std::shared_ptr<org_init>> dirs;
  for (auto& [id, o] : cat->orgs) {
    auto d = std::make_shared<org_init>();
    d->org = id;
    d->rt = router_.get();
    d->jr = &jr_;
    d->models = models_;
    d->jobs = jobs_;
    dirs.emplace(id, std::move(d));
  }
  for (auto& p : parts)
    for (auto& ident : p.identities) {
      auto d = dirs.find(ident.org);
      if (d == dirs.end())
        continue; // a lead of an unknown org: kept, but unreachable
      if (ident.has_email)
        d->second->by_email.emplace(ident.email, ident.id);
      if (ident.has_external_id)
        d->second->by_external_id.emplace(ident.external_id, ident.id);
    }
  parts.clear();
  for (auto& [id, d] : dirs) {
    auto hdl = spawn_org(sys_, d);
    cat->org_actors.emplace(id, hdl);
    all_.push_back(hdl);
  }
  cat->rt = router_.get();
  report.orgs = cat->orgs.size();
  if (auto e = db_.scan_keys([&](api_key&& k) {
        auto i = cat->org_actors.find(k.org);
        caf::actor hdl = i == cat->org_actors.end() ? caf::actor{} : i->second;
        if (k.key_role != role::root)
          cat->keys.emplace(k.id, k);
        keys.push_back({std::move(k), hdl});
      }))
    return e;
  catalog_ = spawn_catalog(sys_, cat);
  all_.push_back(catalog_);
  all_.push_back(sys_.spawn(watchdog, all_)); // org actors made later are linked to the catalog
  report.leads = count;
  report.keys = keys.size();
  report.seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::nullopt;
}

void node::stop() {
  for (auto& a : all_)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  all_.clear();
  catalog_ = nullptr;
}

} // namespace hotlead
