#include "protocol/score.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/ascii.hpp"
#include "protocol/intern.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/time.hpp"

namespace hotlead {

namespace {

/// `needle` is lower-case already (the parser made it so).
bool icontains(std::string_view hay, std::string_view needle, bool at_start) {
  if (needle.size() > hay.size())
    return false;
  size_t last = at_start ? 0 : hay.size() - needle.size();
  for (size_t i = 0; i <= last; ++i)
    if (ascii_iequals(hay.substr(i, needle.size()), needle))
      return true;
  return false;
}

/// The predicate (before negation) on one string value.
bool string_holds(const predicate& p, std::string_view v) {
  switch (p.op) {
    case rule_op::equals:
    case rule_op::in:
      return std::any_of(p.values.begin(), p.values.end(), [&](const attr_value& x) {
        auto* s = std::get_if<std::string>(&x);
        return s && ascii_iequals(*s, v);
      });
    case rule_op::contains: return icontains(v, p.strings[0], false);
    case rule_op::prefix: return icontains(v, p.strings[0], true);
    case rule_op::range: return false;
    case rule_op::exists: return true;
  }
  return false;
}

/// The predicate (before negation) on one attribute or property value.
bool value_holds(const predicate& p, const attr_value& v) {
  if (auto* s = std::get_if<std::string>(&v))
    return string_holds(p, *s);
  switch (p.op) {
    case rule_op::equals:
    case rule_op::in:
      return std::any_of(p.values.begin(), p.values.end(),
                         [&](const attr_value& x) { return x == v; });
    case rule_op::range: {
      auto* d = std::get_if<double>(&v);
      return d && (!p.min || *d >= *p.min) && (!p.max || *d <= *p.max);
    }
    case rule_op::exists: return true;
    default: return false;
  }
}

bool holds(const predicate& p, bool matched) {
  return p.negate ? !matched : matched;
}

/// Points (hundredths) times 2^(-age / half_life), as a float of points.
double decay(double points, millis age, millis half_life) {
  if (half_life <= 0 || age <= 0)
    return points;
  return points * std::exp2(-static_cast<double>(age) / static_cast<double>(half_life));
}

} // namespace

bool fit_matches(const fit_rule& r, const lead& l) {
  const predicate& p = r.when;
  switch (r.target) {
    case rule_target::text: {
      auto v = l.get(r.field);
      return holds(p, !v.empty() && string_holds(p, v));
    }
    case rule_target::source:
      return holds(p, l.source != 0 && string_holds(p, symbol_name(l.source)));
    case rule_target::status: return holds(p, string_holds(p, to_string(l.status)));
    case rule_target::tags:
      return holds(p, std::any_of(l.tags.begin(), l.tags.end(), [&](symbol t) {
                     return string_holds(p, symbol_name(t));
                   }));
    case rule_target::attribute:
      for (auto& a : l.attributes)
        if (r.attribute_sym ? a.key == r.attribute_sym : symbol_name(a.key) == r.attribute)
          return holds(p, value_holds(p, a.value));
      return holds(p, false);
  }
  return false;
}

void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       std::string_view type, millis at, const property_lookup& props) {
  record_engagement(m, state, intern(type), at, props);
}

void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       symbol type, millis at, const property_lookup& props,
                       const std::vector<bool>* only) {
  auto sec = static_cast<uint32_t>(std::max<millis>(at, 0) / 1000);
  for (size_t i = 0; i < m.engagement.size(); ++i) {
    const auto& r = m.engagement[i];
    if ((r.event_sym ? r.event_sym != type : r.event != symbol_name(type)) ||
        (only && !(*only)[i]))
      continue;
    if (r.where) {
      auto v = props ? props(*r.where) : std::nullopt;
      if (!holds(*r.where_is, v && value_holds(*r.where_is, *v)))
        continue;
    }
    auto it = std::find_if(state.begin(), state.end(),
                           [&](const engagement_state& s) { return s.rule == i; });
    if (it == state.end()) {
      state.push_back({static_cast<uint16_t>(i), 0, sec, 0, 0});
      it = state.end() - 1;
    }
    centipoints earn = r.points;
    if (r.cap > 0) {
      auto window = static_cast<uint32_t>(at / r.cap_window);
      if (window > it->window) {
        it->window = window;
        it->earned = 0;
      }
      if (window == it->window) {
        earn = std::clamp<centipoints>(r.cap - it->earned, 0, earn);
        it->earned += static_cast<int32_t>(earn);
      } // an event of an earlier window: that window's count is gone; uncapped
    }
    double points = static_cast<double>(earn) / 100;
    if (sec >= it->ref) {
      it->value = static_cast<float>(
        decay(it->value, static_cast<millis>(sec - it->ref) * 1000, r.half_life) + points);
      it->ref = sec;
    } else { // a late event: decayed forward to ref from its own time
      it->value += static_cast<float>(
        decay(points, static_cast<millis>(it->ref - sec) * 1000, r.half_life));
    }
  }
}

namespace {

bool same_predicate(const predicate& a, const predicate& b) {
  return a.op == b.op && a.negate == b.negate && a.values == b.values &&
         a.strings == b.strings && a.min == b.min && a.max == b.max;
}

bool same_definition(const engagement_rule& a, const engagement_rule& b) {
  if (a.event != b.event || a.where != b.where || a.points != b.points ||
      a.half_life != b.half_life || a.cap != b.cap || a.cap_window != b.cap_window)
    return false;
  if (a.where_is.has_value() != b.where_is.has_value())
    return false;
  return !a.where_is || same_predicate(*a.where_is, *b.where_is);
}

} // namespace

std::vector<int> carry_map(const scoring_model& from, const scoring_model& to) {
  std::vector<int> map(to.engagement.size(), -1);
  std::vector<bool> taken(from.engagement.size(), false);
  for (size_t pass = 0; pass < 2; ++pass) // same id first, then any id
    for (size_t j = 0; j < to.engagement.size(); ++j) {
      if (map[j] >= 0)
        continue;
      for (size_t i = 0; i < from.engagement.size(); ++i)
        if (!taken[i] && (pass == 1 || from.engagement[i].id == to.engagement[j].id) &&
            same_definition(from.engagement[i], to.engagement[j])) {
          map[j] = static_cast<int>(i);
          taken[i] = true;
          break;
        }
    }
  return map;
}

void carry_state(std::vector<engagement_state>& state, const std::vector<int>& map) {
  std::vector<engagement_state> out;
  out.reserve(state.size());
  for (size_t j = 0; j < map.size(); ++j) {
    if (map[j] < 0)
      continue;
    for (auto& s : state)
      if (s.rule == map[j]) {
        out.push_back(s);
        out.back().rule = static_cast<uint16_t>(j);
        break;
      }
  }
  state = std::move(out);
}

std::vector<bool> replay_rules(const scoring_model& to, const std::vector<int>& map,
                               const lead& l) {
  std::vector<bool> out;
  for (size_t j = 0; j < map.size(); ++j) {
    if (map[j] >= 0)
      continue;
    auto& r = to.engagement[j];
    bool seen = std::any_of(l.counters.begin(), l.counters.end(), [&](const event_counter& c) {
      return r.event_sym ? c.type == r.event_sym : symbol_name(c.type) == r.event;
    });
    if (!seen)
      continue;
    if (out.empty())
      out.resize(map.size(), false);
    out[j] = true;
  }
  return out;
}

centipoints engagement_points(const engagement_rule& r, const engagement_state& s, millis now) {
  millis age = now - static_cast<millis>(s.ref) * 1000;
  return static_cast<centipoints>(std::llround(decay(s.value, age, r.half_life) * 100));
}

score score_of(const scoring_model& m, const lead& l,
               const std::vector<engagement_state>& state, millis now) {
  score out;
  out.factors.reserve(m.fit.size() + state.size() + 1); // one allocation, not one per doubling
  for (auto& r : m.fit)
    if (fit_matches(r, l)) {
      out.factors.push_back({factor_kind::fit, r.id, r.points});
      out.fit += r.points;
    }
  for (auto& s : state) {
    if (s.rule >= m.engagement.size())
      continue;
    const auto& r = m.engagement[s.rule];
    centipoints p = engagement_points(r, s, now);
    if (p == 0)
      continue;
    out.factors.push_back({factor_kind::engagement, r.id, p});
    out.engagement += p;
  }
  centipoints raw = out.fit + out.engagement;
  out.total = std::clamp(raw, m.min, m.max);
  if (out.total != raw)
    out.factors.push_back({factor_kind::bound, raw > m.max ? "max" : "min", out.total - raw});
  out.grade = out.total >= m.grades.a ? 'A'
              : out.total >= m.grades.b ? 'B'
              : out.total >= m.grades.c ? 'C'
                                        : 'D';
  return out;
}

namespace {

// ,"fit":F,"engagement":E,"grade":"G" (the score object and history entries).
void write_parts(std::string& out, const score& s) {
  out += ",\"fit\":";
  out += format_points(s.fit);
  out += ",\"engagement\":";
  out += format_points(s.engagement);
  out += ",\"grade\":\"";
  out += s.grade;
  out += '"';
}

std::string_view kind_name(factor_kind k) {
  switch (k) {
    case factor_kind::fit: return "fit";
    case factor_kind::engagement: return "engagement";
    case factor_kind::predictive: return "predictive";
    case factor_kind::bound: return "bound";
  }
  return "fit";
}

} // namespace

void write_score(std::string& out, const score& s, uint64_t model_version, millis computed_at,
                 const std::optional<predictive_part>& predictive) {
  out += "{\"total\":";
  out += format_points(s.total);
  write_parts(out, s);
  if (predictive) {
    out += ",\"probability\":";
    append_json_number(out, predictive->probability);
    out += ",\"predictive_model\":{\"version\":";
    out += std::to_string(predictive->version);
    out += ",\"arm\":";
    if (predictive->arm) {
      out += '"';
      out += predictive->arm;
      out += '"';
    } else {
      out += "null";
    }
    out += '}';
  } else {
    out += ",\"probability\":null,\"predictive_model\":null";
  }
  out += ",\"model_version\":";
  out += std::to_string(model_version);
  out += ",\"computed_at\":\"";
  append_time(out, computed_at);
  out += "\",\"factors\":[";
  bool first = true;
  auto write_factor = [&](const factor& f) {
    out += first ? "{\"kind\":\"" : ",{\"kind\":\"";
    first = false;
    out += kind_name(f.kind);
    out += "\",\"name\":";
    append_json_string(out, f.name);
    out += ",\"points\":";
    out += format_points(f.points);
    out += '}';
  };
  for (const auto& f : s.factors)
    write_factor(f);
  if (predictive)
    for (const auto& f : predictive->factors)
      write_factor(f);
  out += "]}";
}

void score_event(const scoring_model& m, lead& l, const event_input& ev,
                 const std::vector<bool>* only) {
  property_lookup props;
  if (ev.properties_json.size() > 2)
    props = [&ev](std::string_view name) { return event_property(ev.properties_json, name); };
  record_engagement(m, l.engagement, intern(ev.type), ev.ts, props, only);
}

void write_scored_lead(std::string& out, const lead& l, const scoring_model& m,
                       uint32_t version, millis now,
                       const std::optional<predictive_part>& predictive) {
  write_lead(out, l);
  out.pop_back(); // the lead's closing brace
  out += ",\"score\":";
  write_score(out, score_of(m, l, l.engagement, now), version, now, predictive);
  out += '}';
}

std::string_view to_string(score_cause c) {
  switch (c) {
    case score_cause::event: return "event";
    case score_cause::field_change: return "field_change";
    case score_cause::model_change: return "model_change";
    case score_cause::decay: return "decay";
    case score_cause::created: return "created";
  }
  return "event";
}

void write_history_entry(std::string& out, millis at, score_cause cause, std::string_view detail,
                         const score& s, centipoints delta, uint32_t version) {
  out += "{\"at\":\"";
  append_time(out, at);
  out += "\",\"cause\":\"";
  out += to_string(cause);
  out += "\",\"detail\":";
  append_json_string(out, detail);
  out += ",\"total\":";
  out += format_points(s.total);
  out += ",\"delta\":";
  out += format_points(delta);
  write_parts(out, s);
  out += ",\"model_version\":";
  out += std::to_string(version);
  out += '}';
}

} // namespace hotlead
