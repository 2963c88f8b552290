// An org's rule model for scoring (issue 3; docs/SCORING-DESIGN.md): fit
// rules on fields and attributes, engagement rules on events, grade
// thresholds and score bounds, parsed from its JSON document and validated.
// Points are integer hundredths ("centipoints") so that a score's factors
// add up exactly. Pure data and functions: no actors, no storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"

namespace hotlead {

/// Points in hundredths: 12.5 points is 1250.
using centipoints = int64_t;

enum class rule_op : uint8_t { equals, in, contains, prefix, range, exists };

/// What a fit rule looks at.
enum class rule_target : uint8_t { text, source, status, tags, attribute };

/// A predicate with its operands. Strings compare ignoring ASCII case.
struct predicate {
  rule_op op = rule_op::equals;
  bool negate = false;                // "not_equals", "not_in", ...
  std::vector<attr_value> values;     // equals (one), in (one or more)
  std::vector<std::string> strings;   // contains, prefix (lower-case)
  std::optional<double> min, max;     // range, inclusive; at least one set
};

struct fit_rule {
  std::string id;
  rule_target target = rule_target::text;
  text field = text::email;  // when target == text
  std::string attribute;     // when target == attribute
  symbol attribute_sym = 0;  // its interned name (set by the parser)
  predicate when;
  centipoints points = 0;
};

struct engagement_rule {
  std::string id;
  std::string event;                 // event type
  symbol event_sym = 0;              // its interned name (set by the parser)
  std::optional<std::string> where;  // an event property the filter reads
  std::optional<predicate> where_is; // set with `where`
  centipoints points = 0;
  millis half_life = 0;              // 0: no decay
  centipoints cap = 0;               // 0: no cap; else at most this per window
  millis cap_window = 0;
};

struct grade_thresholds {
  centipoints a = 8000, b = 6000, c = 4000; // D below c
};

struct scoring_model {
  std::vector<fit_rule> fit;
  std::vector<engagement_rule> engagement;
  grade_thresholds grades;
  centipoints min = 0, max = 10000;
};

/// Limits of a model document.
inline constexpr size_t max_model_rules = 200;   // fit + engagement
inline constexpr size_t max_rule_values = 100;   // values of one `in`
inline constexpr double max_abs_points = 1e6;

/// Parses and validates a model document (PUT /v1/scoring-model). A bad
/// model is errc::invalid_model (422) whose detail names the rule (section,
/// index and id) and the field at fault; malformed JSON is malformed_json.
std::optional<problem> parse_scoring_model(std::string_view body, scoring_model& out);

/// The model a new org starts with, as its JSON document (README documents it).
std::string_view default_scoring_model_json();

/// Points as a JSON number (at most two decimals): 1250 -> "12.5".
std::string format_points(centipoints p);

} // namespace hotlead
