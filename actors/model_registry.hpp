// The orgs' scoring models (issue 3), readable from any thread: shards score
// writes with them, io threads score reads and POST /v1/score. Every stored
// version of every org is here, immutable once added and never freed, so a
// `const model_entry&` handed out stays valid for the life of the process
// (a lead keeps the version its engagement state is in terms of until the
// re-score job moves it to the active one). An org with no stored model
// uses the default model as its version 1.
//
// Writers: node start-up (recovery) and the org's actor (PUT, activate).
// `predictive` holds the predictive models the same way.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/predictive_registry.hpp"
#include "protocol/scoring_model.hpp"

namespace hotlead {

struct model_entry {
  uint32_t version = 0;
  millis created_at = 0;
  std::string json; // the document as stored
  scoring_model model;
};

/// A version as the API shows it: {"version", "created_at", "active"} and,
/// with `with_model`, "model" (the document).
std::string model_version_json(const model_entry& e, bool active, bool with_model = true);

class model_registry;

/// Applies a replayed stored event to a lead: its counters, and its
/// engagement state when the lead's model version is known (a lead without
/// one is re-scored by its shard, from all its events, when the shard starts).
void replay_event(const model_registry& reg, lead& l, const event_input& ev);

class model_registry {
public:
  model_registry();

  /// The version an org's leads are scored with now.
  const model_entry& active(uint64_t org) const;

  /// The version a lead's engagement state is in terms of, or the org's
  /// active one when that version is unknown (0: the lead has none yet).
  const model_entry& of(uint64_t org, uint32_t version) const;

  /// One version of an org's model, or nullptr.
  const model_entry* find(uint64_t org, uint32_t version) const;

  /// An org's versions, oldest first (the default alone when none is stored).
  std::vector<const model_entry*> versions(uint64_t org) const;

  /// Whether the org has stored versions (else it uses the default).
  bool stored(uint64_t org) const;

  /// The default model as version 1 (not stored).
  const model_entry& fallback() const {
    return *default_;
  }

  // -- writers ------------------------------------------------------------------

  /// Adds a stored version (versions arrive in order: 1, 2, ...).
  const model_entry& add(uint64_t org, model_entry e);

  /// Makes a stored version (or 1, the default) the active one.
  void activate(uint64_t org, uint32_t version);

  /// The predictive models, beside the rule models (score answers need both).
  predictive_registry predictive;

private:
  struct org_models {
    std::deque<std::unique_ptr<const model_entry>> versions;
    const model_entry* active = nullptr;
  };

  mutable std::shared_mutex mtx_;
  std::unordered_map<uint64_t, org_models> orgs_;
  std::unique_ptr<const model_entry> default_;
};

} // namespace hotlead
