// Training a predictive model (POST /v1/models:train) on a thread of its
// own, so that requests never wait for it: the org actor spawns it as a
// detached actor. It reads the org's leads straight from the shards' tables,
// a few hundred at a time under each table's read lock (writers wait for
// one such chunk at most, never for the whole scan):
//   1. the ids of the labelled leads, counting each class; then
//      msg::train_ready to the org actor (an error when no model can be
//      made, which answers the request);
//   2. a survey of what those leads carry, to choose the features;
//   3. the feature columns and labels, then train_logistic();
//   4. msg::trained to the org actor, which stores the model.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace hotlead {

class lead_table;
struct job;
struct train_request;

/// The shards' tables are shared, not borrowed from the router: a training
/// still running at shutdown outlives the node.
using table_list = std::vector<std::shared_ptr<const lead_table>>;

void run_training(caf::blocking_actor* self, caf::actor org_actor, table_list tables,
                  uint64_t org, std::shared_ptr<const train_request> req, std::shared_ptr<job> j);

} // namespace hotlead
