#include "actors/model_registry.hpp"

#include <mutex>
#include <stdexcept>

#include "protocol/json_out.hpp"
#include "protocol/score.hpp"

namespace hotlead {

std::string model_version_json(const model_entry& e, bool active, bool with_model) {
  std::string out = "{\"version\":" + std::to_string(e.version) + ",\"created_at\":";
  if (e.created_at) {
    out += '"';
    append_time(out, e.created_at);
    out += '"';
  } else {
    out += "null"; // the built-in default
  }
  out += ",\"active\":";
  out += active ? "true" : "false";
  if (with_model) {
    out += ",\"model\":";
    out += e.json;
  }
  out += '}';
  return out;
}

model_registry::model_registry() {
  auto e = std::make_unique<model_entry>();
  e->version = 1;
  e->json = std::string{default_scoring_model_json()};
  if (auto p = parse_scoring_model(e->json, e->model))
    throw std::logic_error("the default scoring model does not parse: " + p->detail);
  default_ = std::move(e);
}

const model_entry& model_registry::active(uint64_t org) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  if (i == orgs_.end() || !i->second.active)
    return *default_;
  return *i->second.active;
}

const model_entry& model_registry::of(uint64_t org, uint32_t version) const {
  auto* e = find(org, version);
  return e ? *e : active(org);
}

void replay_event(const model_registry& reg, lead& l, const event_input& ev) {
  record_event(l, ev);
  if (l.model_version != 0)
    if (auto* e = reg.find(l.org, l.model_version))
      score_event(e->model, l, ev);
}

const model_entry* model_registry::find(uint64_t org, uint32_t version) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  if (i == orgs_.end() || i->second.versions.empty())
    return version == 1 ? default_.get() : nullptr;
  auto& vs = i->second.versions;
  if (version == 0 || version > vs.size())
    return nullptr;
  return vs[version - 1].get();
}

std::vector<const model_entry*> model_registry::versions(uint64_t org) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  if (i == orgs_.end() || i->second.versions.empty())
    return {default_.get()};
  std::vector<const model_entry*> out;
  for (auto& v : i->second.versions)
    out.push_back(v.get());
  return out;
}

bool model_registry::stored(uint64_t org) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  return i != orgs_.end() && !i->second.versions.empty();
}

const model_entry& model_registry::add(uint64_t org, model_entry e) {
  std::unique_lock lock{mtx_};
  auto& o = orgs_[org];
  if (e.version != o.versions.size() + 1)
    throw std::logic_error("model versions must be added in order");
  o.versions.push_back(std::make_unique<const model_entry>(std::move(e)));
  return *o.versions.back();
}

void model_registry::activate(uint64_t org, uint32_t version) {
  std::unique_lock lock{mtx_};
  auto& o = orgs_[org];
  if (version >= 1 && version <= o.versions.size())
    o.active = o.versions[version - 1].get();
  else if (version == 1 && o.versions.empty())
    o.active = default_.get();
}

} // namespace hotlead
