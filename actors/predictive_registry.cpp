#include "actors/predictive_registry.hpp"

#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

#include "protocol/json_out.hpp"
#include "protocol/mix.hpp"

namespace hotlead {

namespace {

constexpr std::string_view intercept_name = "(intercept)";

centipoints hundredths(double log_odds) {
  return static_cast<centipoints>(std::llround(log_odds * 100));
}

std::optional<uint32_t> parse_u32(std::string_view text) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size())
    return std::nullopt;
  return v;
}

} // namespace

char arm_of(uint64_t lead_id, uint32_t percent) {
  // Mixed, so the arm does not follow the id's low bits (they pick the
  // shard), and salted, so it does not follow the trainer's held_out() of
  // the same id either: the held-out leads spread evenly over both arms.
  constexpr uint64_t arm_salt = 0x6a09e667f3bcc908ULL;
  return splitmix64(lead_id ^ arm_salt) % 100 < percent ? 'B' : 'A';
}

std::string predictive_record(const predictive_entry& e) {
  return e.summary + "\n" + to_json(e.model);
}

std::optional<predictive_entry> parse_predictive_record(uint32_t version, millis created_at,
                                                        std::string_view record,
                                                        std::string* error) {
  auto nl = record.find('\n');
  if (nl == record.npos) {
    *error = "the record has no model part";
    return std::nullopt;
  }
  predictive_entry e;
  e.version = version;
  e.created_at = created_at;
  e.summary = std::string{record.substr(0, nl)};
  auto m = parse_logistic_model(record.substr(nl + 1), error);
  if (!m)
    return std::nullopt;
  auto defs = model_features(*m, error);
  if (!defs)
    return std::nullopt;
  e.model = std::move(*m);
  e.features = std::move(*defs);
  return e;
}

std::string to_json(const predictive_setting& s) {
  if (s.version == 0)
    return "null";
  std::string out = "{\"version\":" + std::to_string(s.version) + ",\"split\":";
  if (s.split_version)
    out += "{\"version\":" + std::to_string(s.split_version) +
           ",\"percent\":" + std::to_string(s.split_percent) + "}";
  else
    out += "null";
  out += '}';
  return out;
}

std::string setting_record(const predictive_setting& s) {
  auto out = std::to_string(s.version);
  if (s.split_version)
    out += " " + std::to_string(s.split_version) + " " + std::to_string(s.split_percent);
  return out;
}

std::optional<predictive_setting> parse_setting_record(std::string_view text) {
  std::vector<uint32_t> parts;
  while (!text.empty()) {
    auto sp = text.find(' ');
    auto v = parse_u32(text.substr(0, sp));
    if (!v)
      return std::nullopt;
    parts.push_back(*v);
    text = sp == text.npos ? std::string_view{} : text.substr(sp + 1);
  }
  if (parts.size() == 1)
    return predictive_setting{parts[0], 0, 0};
  if (parts.size() == 3 && parts[2] <= 100)
    return predictive_setting{parts[0], parts[1], parts[2]};
  return std::nullopt;
}

std::optional<predictive_part> predictive_registry::predict(const lead& l) const {
  if (active_orgs_.load(std::memory_order_acquire) == 0)
    return std::nullopt; // the common case: no shared lock taken on every score
  const predictive_entry* e = nullptr;
  char arm = 0;
  {
    std::shared_lock lock{mtx_};
    auto i = orgs_.find(l.org);
    if (i == orgs_.end() || !i->second.a)
      return std::nullopt;
    auto& o = i->second;
    e = o.a;
    if (o.b) {
      arm = l.id ? arm_of(l.id, o.active.split_percent) : 'A';
      if (arm == 'B')
        e = o.b;
    }
  } // entries are immutable and never freed: no lock needed from here on
  thread_local std::vector<feature_value> values;
  thread_local feature_scratch scratch;
  feature_values(e->features, l, values, scratch);
  auto p = hotlead::predict(e->model, values);
  predictive_part out;
  out.probability = p.probability;
  out.version = e->version;
  out.arm = arm;
  out.factors.reserve(p.contributions.size() + 1);
  out.factors.push_back(
    {factor_kind::predictive, intercept_name, hundredths(e->model.intercept())});
  auto& cols = e->model.columns();
  for (size_t c = 0; c < p.contributions.size() && c < cols.size(); ++c) {
    auto pts = hundredths(p.contributions[c]);
    if (pts == 0)
      continue;
    auto& names = e->factor_names[c];
    size_t i = 0;
    if (cols[c].categorical) { // the level's own name, or (other)
      auto& idx = e->level_index[c];
      auto hit = idx.find(values[c].level);
      i = hit == idx.end() ? names.size() - 1 : hit->second;
    }
    out.factors.push_back({factor_kind::predictive, std::string_view{names[i]}, pts});
  }
  return out;
}

const predictive_entry* predictive_registry::find(uint64_t org, uint32_t version) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  if (i == orgs_.end() || version == 0 || version > i->second.versions.size())
    return nullptr;
  return i->second.versions[version - 1].get();
}

std::vector<const predictive_entry*> predictive_registry::versions(uint64_t org) const {
  std::shared_lock lock{mtx_};
  std::vector<const predictive_entry*> out;
  if (auto i = orgs_.find(org); i != orgs_.end())
    for (auto& v : i->second.versions)
      out.push_back(v.get());
  return out;
}

predictive_setting predictive_registry::active(uint64_t org) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  return i == orgs_.end() ? predictive_setting{} : i->second.active;
}

uint32_t predictive_registry::next_version(uint64_t org) const {
  std::shared_lock lock{mtx_};
  auto i = orgs_.find(org);
  return i == orgs_.end() ? 1 : static_cast<uint32_t>(i->second.versions.size() + 1);
}

std::string predictive_registry::entry_json(uint64_t org, const predictive_entry& e,
                                            bool with_model) const {
  auto s = active(org);
  std::string out = "{\"version\":" + std::to_string(e.version) + ",\"created_at\":\"";
  append_time(out, e.created_at);
  bool a = s.version == e.version, b = s.split_version && s.split_version == e.version;
  out += "\",\"active\":";
  out += a || b ? "true" : "false";
  out += ",\"arm\":";
  out += !s.split_version || !(a || b) ? "null" : a ? "\"A\"" : "\"B\"";
  out += ',';
  out += e.summary;
  if (with_model) {
    out += ",\"model\":";
    out += to_json(e.model);
  }
  out += '}';
  return out;
}

void predictive_registry::add(uint64_t org, predictive_entry e) {
  std::unique_lock lock{mtx_};
  auto& o = orgs_[org];
  if (e.version != o.versions.size() + 1)
    throw std::logic_error("predictive model versions must be added in order");
  auto& cols = e.model.columns();
  e.factor_names.assign(cols.size(), {});
  e.level_index.assign(cols.size(), {});
  for (size_t c = 0; c < cols.size(); ++c) {
    auto& names = e.factor_names[c];
    if (!cols[c].categorical) {
      names.push_back(cols[c].name);
      continue;
    }
    for (auto& level : cols[c].levels) {
      e.level_index[c].emplace(level, static_cast<uint32_t>(names.size()));
      names.push_back(cols[c].name + "=" + level);
    }
    names.push_back(cols[c].name + "=(other)");
  }
  o.versions.push_back(std::make_unique<const predictive_entry>(std::move(e)));
}

void predictive_registry::activate(uint64_t org, predictive_setting s) {
  std::unique_lock lock{mtx_};
  auto& o = orgs_[org];
  auto at = [&o](uint32_t v) -> const predictive_entry* {
    return v >= 1 && v <= o.versions.size() ? o.versions[v - 1].get() : nullptr;
  };
  bool was_active = o.a != nullptr;
  o.a = at(s.version);
  if (was_active != (o.a != nullptr))
    active_orgs_.fetch_add(o.a ? 1 : size_t(-1), std::memory_order_release);
  o.b = o.a ? at(s.split_version) : nullptr;
  o.active = o.a ? s : predictive_setting{};
  if (!o.b) {
    o.active.split_version = 0;
    o.active.split_percent = 0;
  }
}

} // namespace hotlead
