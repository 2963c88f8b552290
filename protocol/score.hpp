// Scoring a lead against a rule model (issue 3; docs/SCORING-DESIGN.md):
// which fit rules match, the decayed engagement of each engagement rule, the
// clamp to the model's bounds, the grade, and the factors, which add up
// exactly (integer hundredths). Pure functions; the caller owns the lead and
// its engagement state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/lead.hpp"
#include "protocol/scoring_model.hpp"

namespace hotlead {

enum class factor_kind : uint8_t { fit, engagement, predictive, bound };

struct factor {
  factor_kind kind = factor_kind::fit;
  std::string_view name; // a rule id (lives in the model), or "min"/"max" for a bound
  centipoints points = 0;
};

struct score {
  centipoints fit = 0, engagement = 0, total = 0;
  char grade = 'D';
  std::vector<factor> factors; // fit, then engagement, then a bound if clamped
};

/// Whether a fit rule's predicate holds for the lead.
bool fit_matches(const fit_rule& r, const lead& l);

/// The value of an event property for an engagement rule's filter, or
/// nullopt when the event has no such property.
using property_lookup = std::function<std::optional<attr_value>(std::string_view name)>;

/// Records an event of `type` at `at` in the lead's engagement state: every
/// engagement rule for that type (and whose filter holds) earns its points,
/// within its cap, decayed from then on. With `only`, just the rules it
/// marks (a replay for rules that are new in a model).
void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       symbol type, millis at, const property_lookup& props,
                       const std::vector<bool>* only = nullptr);
void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       std::string_view type, millis at, const property_lookup& props);

/// For each engagement rule of `to`, the index of a rule of `from` with the
/// same definition (event, filter, points, half-life, cap; the id may
/// differ), or -1: a lead's state for such a rule carries over to `to`
/// unchanged, while a -1 rule must be rebuilt from the lead's events.
std::vector<int> carry_map(const scoring_model& from, const scoring_model& to);

/// Moves engagement state from `from`'s rule indices to `to`'s by `map`
/// (carry_map); the state of rules `to` does not keep is dropped.
void carry_state(std::vector<engagement_state>& state, const std::vector<int>& map);

/// The rules of `to` that `map` does not carry and that listen to an event
/// type the lead has had (from its counters): those need a replay of its
/// events. Empty when nothing needs one.
std::vector<bool> replay_rules(const scoring_model& to, const std::vector<int>& map,
                               const lead& l);

/// The lead's score at `now`.
score score_of(const scoring_model& m, const lead& l,
               const std::vector<engagement_state>& state, millis now);

/// A lead's conversion probability under the org's active predictive model
/// (actors/predictive_registry.hpp): which version and A/B arm gave it and
/// its factors (kind predictive, points = log-odds in hundredths; with the
/// "(intercept)" factor they add up to logit(probability) within rounding).
struct predictive_part {
  double probability = 0;
  uint32_t version = 0;
  char arm = 0; // 'A' or 'B' under an A/B split, else 0
  std::vector<factor> factors;
};

/// The score object's JSON (a stable shape; README): total, fit, engagement,
/// grade, probability and predictive_model ({version, arm}; both null without
/// a predictive model), model_version, computed_at and factors [{kind, name,
/// points}] (the rule factors, then the predictive ones), points with at
/// most two decimals.
void write_score(std::string& out, const score& s, uint64_t model_version, millis computed_at,
                 const std::optional<predictive_part>& predictive = std::nullopt);

/// Records one event in the lead's engagement state under model `m` (the
/// event's properties are read for rules with a filter).
void score_event(const scoring_model& m, lead& l, const event_input& ev,
                 const std::vector<bool>* only = nullptr);

/// The lead object (json_out's write_lead) with its score at `now` as the
/// member "score".
void write_scored_lead(std::string& out, const lead& l, const scoring_model& m,
                       uint32_t version, millis now,
                       const std::optional<predictive_part>& predictive);

/// Why a score changed, for its history.
enum class score_cause : uint8_t { event, field_change, model_change, decay, created };

std::string_view to_string(score_cause c);

/// One score history entry (GET /v1/leads/{id}/score/history):
/// {"at","cause","detail","total","delta","fit","engagement","grade","model_version"}.
void write_history_entry(std::string& out, millis at, score_cause cause, std::string_view detail,
                         const score& s, centipoints delta, uint32_t version);

/// Decayed engagement points of one rule's state at `now`, in hundredths.
centipoints engagement_points(const engagement_rule& r, const engagement_state& s, millis now);

} // namespace hotlead
