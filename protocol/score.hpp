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

/// One engagement rule's state on one lead: the decayed points as of `ref`
/// and the points earned in the current cap window.
struct engagement_state {
  uint16_t rule = 0;     // index into scoring_model::engagement
  float value = 0;       // points (not hundredths) as of ref
  uint32_t ref = 0;      // seconds since the epoch
  uint32_t window = 0;   // cap window index (epoch-aligned)
  int32_t earned = 0;    // hundredths earned in that window
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
/// within its cap, decayed from then on.
void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       std::string_view type, millis at, const property_lookup& props);

/// The lead's score at `now`.
score score_of(const scoring_model& m, const lead& l,
               const std::vector<engagement_state>& state, millis now);

/// The score object's JSON (a stable shape; README): total, fit, engagement,
/// grade, probability (null without a predictive model), model_version,
/// computed_at and factors [{kind, name, points}], points with at most two
/// decimals.
void write_score(std::string& out, const score& s, uint64_t model_version, millis computed_at,
                 std::optional<double> probability = std::nullopt);

/// Decayed engagement points of one rule's state at `now`, in hundredths.
centipoints engagement_points(const engagement_rule& r, const engagement_state& s, millis now);

} // namespace hotlead
