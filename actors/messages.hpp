// The messages actors exchange, as protocol types: no HTTP here (the actor
// is not aware of HTTP). Each request names its reply type in a comment.
// They cross only local mailboxes for now and are declared unsafe message
// types; the cluster work must give them `inspect` overloads and register
// them on every node (see ../shared/CAF-0.17.md, "Messages that cross").
#pragma once

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/jobs.hpp"
#include "actors/reply_route.hpp"
#include "protocol/errors.hpp"
#include "protocol/lead.hpp"
#include "protocol/org.hpp"
#include "protocol/query.hpp"
#include "protocol/scoring_model.hpp"

namespace hotlead {
struct train_request;
struct predictive_entry;
} // namespace hotlead

namespace hotlead::msg {

using committed_atom = caf::atom_constant<caf::atom("committed")>;
/// Shard → itself: rewrite the records of leads with an event tail.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
/// A shard's next chunk of leads whose score may have decayed across a
/// watched threshold (shard_moves.cpp).
using decay_atom = caf::atom_constant<caf::atom("decay")>;

/// Shard → itself: the next chunk of a re-score.
using rescore_atom = caf::atom_constant<caf::atom("rescore")>;

enum class upsert_mode : uint8_t { none, email, external_id };

// -- to shards ----------------------------------------------------------------

struct get_lead { // → std::string (lead JSON)
  uint64_t org;
  uint64_t id;
};

struct create_lead { // → lead_written
  uint64_t org;
  uint64_t id;
  lead_patch patch;
  millis now;
};

struct update_lead { // → lead_written
  uint64_t org;
  uint64_t id;
  lead_patch patch;
  millis now;
};

struct remove_lead { // → lead_written (body empty)
  uint64_t org;
  uint64_t id;
};

struct add_event { // → std::string (event answer JSON), or through `route` when set
  uint64_t org;
  uint64_t id;
  event_input event;
  reply_route route = {};
};

/// Routed add_events that one io thread collected in one turn of its loop,
/// for one shard: one message, one journal write, answers per route.
struct add_event_burst {
  std::vector<add_event> items;
};

/// Journal thread → shard: routed writes could not be committed; roll their
/// leads back, then answer every route with the problem.
struct write_failed {
  std::vector<uint64_t> leads;
  std::vector<reply_route> routes;
  problem error;
};

struct add_events { // → batch_outcome
  uint64_t org;
  std::vector<size_t> index; // position in the request, per item
  std::vector<uint64_t> ids;
  std::vector<event_input> events;
};

struct list_leads { // → list_page
  list_query query;
};

/// Re-scores the org's leads whose engagement state is not in terms of
/// `version` (its active model): the shard's part of a re-score job, or its
/// own at start-up (a re-score a restart interrupted; no job then).
struct rescore {
  uint64_t org;
  uint32_t version;
  std::shared_ptr<job> run; // may be null
};

/// Job thread → shard: the stored events of leads whose new engagement rules
/// need them (rescore), in chunks; `last` ends the shard's part.
struct replay_events {
  struct item {
    uint64_t lead;
    std::vector<event_input> events; // oldest first
  };
  uint64_t org;
  uint32_t version;
  std::shared_ptr<job> run;
  std::vector<item> items;
  bool last = false;
};

/// Scores the org's leads with a proposed model beside their current score
/// (POST /v1/scoring-model:preview). → preview_part
struct preview_scores {
  uint64_t org;
  std::shared_ptr<const scoring_model> model;
};

struct preview_part {
  static constexpr size_t buckets = 10;
  struct side {
    std::array<uint64_t, 4> grades{}; // A, B, C, D
    std::array<uint64_t, buckets> histogram{};
    centipoints sum = 0;
  };
  uint64_t leads = 0, grade_changes = 0, estimated = 0;
  side current, proposed;
};

/// Creates and updates of one bulk import batch in this shard, in order, in
/// one journal write (the org actor resolved ids and identities).
/// → write_leads_outcome; an error when the journal write failed (then none
/// of the batch is applied).
struct write_leads {
  struct item {
    size_t index = 0; // into the org actor's batch
    uint64_t id = 0;
    bool create = false;
    lead_patch patch;
  };
  uint64_t org;
  std::vector<item> items;
  millis now;
};

struct write_leads_outcome {
  struct item {
    size_t index = 0;
    bool created = false, changed = false;
    std::optional<problem> error; // this item was refused, the others went on
    std::string old_email, old_external_id, email, external_id;
  };
  std::vector<item> items;
};

// -- to org actors ------------------------------------------------------------

/// One batch of a bulk import (POST /v1/leads:import): each row upserted by
/// `mode` (none: always created). → import_outcome
struct import_rows {
  struct row {
    uint64_t number = 0; // as the file counts it (the CSV header is row 1)
    lead_patch patch;
  };
  uint64_t org;
  upsert_mode mode;
  std::vector<row> rows;
  millis now;
};

struct import_outcome {
  uint64_t created = 0, updated = 0, unchanged = 0;
  std::vector<std::pair<uint64_t, problem>> errors; // by row number
};

struct put_model { // → std::string (the version's JSON)
  uint64_t org;
  std::string json;
  std::shared_ptr<scoring_model> model;
};

struct activate_model { // → std::shared_ptr<job> (the re-score job)
  uint64_t org;
  uint32_t version;
};

/// Trains a predictive model (POST /v1/models:train). → std::shared_ptr<job>
/// once the labelled leads are counted (cannot_train when they cannot make
/// a model, conflict while another training runs).
struct train_model {
  uint64_t org;
  std::shared_ptr<const train_request> req;
};

/// Trainer → org actor: the labelled leads are counted; `err` when they
/// cannot make a model (the request is answered with it).
struct train_ready {
  std::optional<problem> err;
};

/// Trainer → org actor: the model (version not yet assigned), or why not.
struct trained {
  std::shared_ptr<predictive_entry> entry;
  std::string error;
};

/// Sets the org's active predictive model (version 0: none; split_version
/// 0: no A/B split). → std::string (the setting's JSON)
struct activate_predictive {
  uint64_t org;
  uint32_t version, split_version, split_percent;
};

struct upsert_lead { // → lead_written
  uint64_t org;
  lead_patch patch;
  upsert_mode mode;
  millis now;
};

// update_lead and remove_lead go through the org actor as well, which keeps
// email and external_id unique per org and then forwards to the shard.

// -- to the catalog -----------------------------------------------------------

struct new_org { // → org (the stored record, with its new id)
  org record;
};

struct new_key { // → key_grant
  api_key record;
};

struct list_keys { // → std::string (JSON {"data": [key...]}, no secrets)
  uint64_t org;
};

struct revoke_key { // → api_key (the revoked record: the edge drops its hash)
  uint64_t org;
  uint64_t key_id;
};

// -- replies ------------------------------------------------------------------

struct lead_written {
  bool created = false;
  std::string body;
  std::string old_email, old_external_id; // before the write
  std::string email, external_id;         // after it
  uint64_t id = 0;                        // the lead written
};

struct list_page {
  std::vector<std::pair<sort_key, std::string>> items;
};

struct batch_outcome {
  std::vector<std::pair<size_t, problem>> errors; // per failed item
  size_t accepted = 0;
};

struct key_grant {
  api_key record;
  caf::actor org_actor;
};

} // namespace hotlead::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::rescore)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::write_leads)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::write_leads_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::import_rows)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::import_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::replay_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::preview_scores)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::preview_part)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::put_model)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::activate_model)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::train_model)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::train_ready)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::trained)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::activate_predictive)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<hotlead::job>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::get_lead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::create_lead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::update_lead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::remove_lead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::add_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::add_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::write_failed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::add_event_burst)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::list_leads)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::upsert_lead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::new_org)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::new_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::lead_written)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::list_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::batch_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::key_grant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::list_keys)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::msg::revoke_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::api_key)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::org)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotlead::problem)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<hotlead::problem>)
