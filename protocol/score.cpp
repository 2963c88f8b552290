#include "protocol/score.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/ascii.hpp"
#include "protocol/intern.hpp"
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
        if (symbol_name(a.key) == r.attribute)
          return holds(p, value_holds(p, a.value));
      return holds(p, false);
  }
  return false;
}

void record_engagement(const scoring_model& m, std::vector<engagement_state>& state,
                       std::string_view type, millis at, const property_lookup& props) {
  auto sec = static_cast<uint32_t>(std::max<millis>(at, 0) / 1000);
  for (size_t i = 0; i < m.engagement.size(); ++i) {
    const auto& r = m.engagement[i];
    if (r.event != type)
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

centipoints engagement_points(const engagement_rule& r, const engagement_state& s, millis now) {
  millis age = now - static_cast<millis>(s.ref) * 1000;
  return static_cast<centipoints>(std::llround(decay(s.value, age, r.half_life) * 100));
}

score score_of(const scoring_model& m, const lead& l,
               const std::vector<engagement_state>& state, millis now) {
  score out;
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
                 std::optional<double> probability) {
  out += "{\"total\":";
  out += format_points(s.total);
  out += ",\"fit\":";
  out += format_points(s.fit);
  out += ",\"engagement\":";
  out += format_points(s.engagement);
  out += ",\"grade\":\"";
  out += s.grade;
  out += "\",\"probability\":";
  if (probability)
    append_json_number(out, *probability);
  else
    out += "null";
  out += ",\"model_version\":";
  out += std::to_string(model_version);
  out += ",\"computed_at\":\"";
  append_time(out, computed_at);
  out += "\",\"factors\":[";
  for (size_t i = 0; i < s.factors.size(); ++i) {
    const auto& f = s.factors[i];
    out += i ? ",{\"kind\":\"" : "{\"kind\":\"";
    out += kind_name(f.kind);
    out += "\",\"name\":";
    append_json_string(out, f.name);
    out += ",\"points\":";
    out += format_points(f.points);
    out += '}';
  }
  out += "]}";
}

} // namespace hotlead
