// The orgs' predictive conversion models (issue 3), readable from any
// thread: every score answer asks it for the lead's probability. Like the
// rule models (model_registry.hpp), every trained version stays here,
// immutable and never freed, so an entry handed out stays valid for the
// life of the process. An org's active setting is a version, or two
// versions split A/B by a stable hash of the lead id; none by default.
//
// Writers: node start-up (recovery) and the org's actor (train, activate).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/features.hpp"
#include "protocol/logistic_model.hpp"
#include "protocol/score.hpp"

namespace hotlead {

struct predictive_entry {
  uint32_t version = 0;
  millis created_at = 0;
  /// What the API shows of it besides version, created_at and the weights:
  /// JSON members "label":{..},"features":[..],"options":{..},"report":{..}.
  std::string summary;
  logistic_model model;
  std::vector<feature_def> features; // one per model column
  /// Per column, the factor names: a numeric column's name alone; a
  /// categorical one's "title=CEO" per kept level, then "title=(other)".
  /// Filled by predictive_registry::add.
  std::vector<std::vector<std::string>> factor_names;
  /// Per categorical column, level → index into its factor_names.
  std::vector<level_map> level_index;
};

/// `version` 0: no model is active. `split_version` 0: no A/B split;
/// else leads whose arm_of() is 'B' (split_percent of them) use it.
struct predictive_setting {
  uint32_t version = 0;
  uint32_t split_version = 0;
  uint32_t split_percent = 0;
  bool operator==(const predictive_setting&) const = default;
};

/// A lead's arm under a split of `percent` %: 'B' for about that share of
/// ids, else 'A'; depends on the id alone.
char arm_of(uint64_t lead_id, uint32_t percent);

/// The stored record of a version: its summary, a newline, the model's JSON.
std::string predictive_record(const predictive_entry& e);

/// The inverse of predictive_record (with version and created_at from the
/// key and value header); nullopt and `*error` when it does not parse.
std::optional<predictive_entry> parse_predictive_record(uint32_t version, millis created_at,
                                                        std::string_view record,
                                                        std::string* error);

/// {"version":3,"split":{"version":4,"percent":20}} or {"version":3,"split":null};
/// null when no model is active.
std::string to_json(const predictive_setting& s);

/// The stored form of a setting: "3" or "3 4 20" (version, split version,
/// percent); and back (nullopt when it is not one).
std::string setting_record(const predictive_setting& s);
std::optional<predictive_setting> parse_setting_record(std::string_view text);

class predictive_registry {
public:
  /// The lead's probability under its org's active setting, or nullopt
  /// when none is active. A lead without an id (a POST /v1/score payload)
  /// takes arm A under a split. Lock-free while no org has a model active.
  std::optional<predictive_part> predict(const lead& l) const;

  const predictive_entry* find(uint64_t org, uint32_t version) const;
  /// Oldest first.
  std::vector<const predictive_entry*> versions(uint64_t org) const;
  predictive_setting active(uint64_t org) const;
  uint32_t next_version(uint64_t org) const;

  /// A version as the API shows it: {"version","created_at","active",
  /// "arm" ("A"/"B" under a split, else null), <summary>} and, with
  /// `with_model`, "model".
  std::string entry_json(uint64_t org, const predictive_entry& e, bool with_model) const;

  // -- writers ------------------------------------------------------------------

  /// Adds a version (versions arrive in order: 1, 2, ...).
  void add(uint64_t org, predictive_entry e);
  void activate(uint64_t org, predictive_setting s);

private:
  struct org_models {
    std::deque<std::unique_ptr<const predictive_entry>> versions;
    predictive_setting active;
    const predictive_entry* a = nullptr;
    const predictive_entry* b = nullptr;
  };

  mutable std::shared_mutex mtx_;
  std::unordered_map<uint64_t, org_models> orgs_;
  std::atomic<size_t> active_orgs_{0}; // orgs with a model active
};

} // namespace hotlead
