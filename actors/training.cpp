#include "actors/training.hpp"

#include <caf/all.hpp>

#include "actors/jobs.hpp"
#include "actors/lead_table.hpp"
#include "actors/messages.hpp"
#include "actors/predictive_registry.hpp"
#include "protocol/features.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace {

/// Leads read under one read lock.
constexpr size_t chunk = 512;

using id_lists = std::vector<std::vector<uint64_t>>; // per shard

template <class F>
void visit(const table_list& tables, uint64_t org, const id_lists& ids, F&& f) {
  for (size_t s = 0; s < ids.size(); ++s)
    for (size_t pos = 0; pos < ids[s].size(); pos += chunk) {
      auto n = std::min(chunk, ids[s].size() - pos);
      tables[s]->read_each(org, std::span{ids[s].data() + pos, n}, f);
    }
}

std::string values_text(const std::vector<std::string>& vs) {
  std::string out;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (i)
      out += i + 1 == vs.size() ? " or " : ", ";
    out += vs[i];
  }
  return out;
}

// Why the labelled leads cannot make a model, or nullopt.
std::optional<problem> check_classes(const label_spec& label, size_t pos, size_t neg) {
  auto field = label.field.name;
  auto rule = "a lead is positive when " + field + " is " + values_text(label.positive) +
              " and negative when it is " + values_text(label.negative);
  if (pos + neg == 0)
    return problem{errc::cannot_train,
                   "no lead of this org is labelled (" + rule +
                     "); record outcomes first, or pass a label that matches your leads"};
  if (pos == 0 || neg == 0)
    return problem{errc::cannot_train,
                   "all " + std::to_string(pos + neg) + " labelled leads are " +
                     (pos ? "positive" : "negative") + " (" + rule +
                     "); a model needs both classes"};
  return std::nullopt;
}

std::string summary_of(const train_request& req, const std::vector<feature_def>& defs,
                       const training_report& report) {
  std::string out = "\"label\":" + to_json(req.label) + ",\"features\":[";
  for (size_t i = 0; i < defs.size(); ++i) {
    out += i ? ",{\"name\":" : "{\"name\":";
    append_json_string(out, defs[i].name);
    out += defs[i].categorical ? ",\"kind\":\"categorical\"}" : ",\"kind\":\"numeric\"}";
  }
  out += "],\"options\":{\"holdout\":";
  append_json_number(out, req.options.holdout);
  out += ",\"max_levels\":" + std::to_string(req.options.max_levels) + "},\"report\":";
  out += to_json(report);
  return out;
}

} // namespace

void run_training(caf::blocking_actor* self, caf::actor org_actor, table_list tables,
                  uint64_t org, std::shared_ptr<const train_request> req, std::shared_ptr<job> j) {
  auto fail = [&](std::string why) {
    self->send(org_actor, msg::trained{nullptr, std::move(why)});
  };
  const auto& label = req->label;
  // 1. The labelled leads.
  id_lists ids;
  size_t pos = 0, neg = 0;
  for (auto& table : tables)
    ids.push_back(table->ids_of(org, [&](const lead& l) {
      auto y = label_of(label, l);
      if (y)
        ++(*y ? pos : neg);
      return y.has_value();
    }));
  if (auto p = check_classes(label, pos, neg)) {
    self->send(org_actor, msg::train_ready{std::move(p)});
    return;
  }
  j->total = pos + neg;
  self->send(org_actor, msg::train_ready{});
  // 2. The features.
  feature_survey survey;
  visit(tables, org, ids, [&](const lead& l) {
    if (label_of(label, l))
      survey.add(l);
  });
  auto defs = survey.choose(label, req->auto_features ? std::span<const feature_def>{}
                                                      : std::span{req->features});
  if (defs.empty())
    return fail("the labelled leads carry no feature to learn from (no source, title, "
                "attributes, events or tags); list features that your leads have");
  // 3. The columns, then the fit.
  column_builder columns{defs};
  training_input in;
  visit(tables, org, ids, [&](const lead& l) {
    auto y = label_of(label, l);
    if (!y)
      return; // relabelled since the count
    columns.add(l);
    in.labels.push_back(*y);
    in.keys.push_back(l.id);
    j->done.fetch_add(1, std::memory_order_relaxed);
  });
  ids.clear();
  in.columns = columns.take();
  log_skewed(defs, in.columns);
  auto r = train_logistic(in, req->options);
  if (!r.model)
    return fail(r.error);
  auto e = std::make_shared<predictive_entry>();
  std::string why;
  auto feats = model_features(*r.model, &why);
  if (!feats)
    return fail("the trained model names an unknown feature (" + why + ")");
  e->summary = summary_of(*req, *feats, r.report);
  e->model = std::move(*r.model);
  e->features = std::move(*feats);
  self->send(org_actor, msg::trained{std::move(e), {}});
}

} // namespace hotlead
