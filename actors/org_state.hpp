// An org actor's state and its model handlers (org_models.cpp: scoring
// model versions and activation; predictive model training and
// activation), shared by org_actor.cpp and org_models.cpp only.
#pragma once

#include <caf/response_promise.hpp>
#include <caf/result.hpp>
#include <caf/stateful_actor.hpp>

#include <memory>
#include <optional>
#include <string>

#include "actors/commit_waiter.hpp"
#include "actors/messages.hpp"
#include "actors/org_actor.hpp"

namespace hotlead {

struct org_state {
  std::shared_ptr<org_init> dir;
  // Work to finish (in this actor) once the journal has a record.
  commit_waiter commits;
  bool model_write = false;     // a model change is on its way to the journal
  std::shared_ptr<job> rescore; // the last re-score job
  std::shared_ptr<job> training; // the running training job, if any
  std::optional<caf::response_promise> train_reply; // until the trainer is ready
  static inline const char* name = "org";
};

namespace org_detail {

using self_ptr = caf::stateful_actor<org_state>*;

caf::result<std::string> put_model(self_ptr self, msg::put_model& m);
caf::result<std::shared_ptr<job>> activate_model(self_ptr self, const msg::activate_model& m);

caf::result<std::shared_ptr<job>> train_model(self_ptr self, msg::train_model& m);
void train_ready(self_ptr self, msg::train_ready& m);
void trained(self_ptr self, msg::trained& m);
caf::result<std::string> activate_predictive(self_ptr self, const msg::activate_predictive& m);

} // namespace org_detail

} // namespace hotlead
