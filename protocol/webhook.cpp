#include "protocol/webhook.hpp"

#include <charconv>

#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "protocol/json_parse.hpp"
#include "protocol/scoring_model.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

struct kind_name {
  uint8_t bit;
  std::string_view name;
};
constexpr kind_name kind_names[] = {{kind_lead_created, "lead.created"},
                                    {kind_lead_updated, "lead.updated"},
                                    {kind_lead_deleted, "lead.deleted"},
                                    {kind_threshold, "lead.threshold_crossed"},
                                    {kind_job_progress, "job.progress"},
                                    {kind_lead_scored, "lead.scored"}};
// "lead.created, lead.updated, ...": for error messages.
const std::string& kinds_known() {
  static const std::string names = [] {
    std::string out;
    for (auto& k : kind_names)
      out += (out.empty() ? "" : ", ") + std::string{k.name};
    return out;
  }();
  return names;
}

constexpr size_t max_url = 2000;

std::optional<problem> parse_threshold(element v, std::optional<threshold_rule>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  object o;
  if (v.get_object().get(o))
    return wrong_type("threshold", "an object {\"score\": points, \"hysteresis\": points} or null");
  threshold_rule r;
  r.hysteresis = 500;
  bool has_score = false;
  for (auto [k, x] : o) {
    if (k == "score") {
      if (!points_value(x, r.score))
        return wrong_type("threshold.score", "the threshold in points (a number)");
      has_score = true;
    } else if (k == "hysteresis") {
      if (!points_value(x, r.hysteresis) || r.hysteresis < 0)
        return wrong_type("threshold.hysteresis", "points (a number >= 0)");
    } else {
      return bad(errc::unknown_field, "unknown field 'threshold." + std::string{k} +
                                        "' (known: score, hysteresis)");
    }
  }
  if (!has_score)
    return bad(errc::invalid_field, "field 'threshold.score' is required");
  out = r;
  return std::nullopt;
}

std::optional<problem> parse_kinds(element v, uint8_t& out) {
  simdjson::dom::array a;
  if (v.get_array().get(a))
    return wrong_type("events", "an array of event kinds (" + kinds_known() + ")");
  out = 0;
  for (auto x : a) {
    std::string_view s;
    if (x.get_string().get(s))
      return wrong_type("events", "an array of strings (" + kinds_known() + ")");
    uint8_t bit = 0;
    for (auto& k : kind_names)
      if (k.name == s)
        bit = k.bit;
    if (!bit)
      return bad(errc::invalid_field, "unknown event kind '" + std::string{s.substr(0, 60)} +
                                        "' in 'events' (known: " + kinds_known() + ")");
    out |= bit;
  }
  if (!out)
    return bad(errc::invalid_field, "'events' must name at least one kind (" +
                                      kinds_known() + ")");
  return std::nullopt;
}

} // namespace

uint8_t kind_of(feed_type t) {
  switch (t) {
    case feed_type::lead_created: return kind_lead_created;
    case feed_type::lead_updated: return kind_lead_updated;
    case feed_type::lead_deleted: return kind_lead_deleted;
    case feed_type::job_progress: return kind_job_progress;
    case feed_type::lead_scored: return kind_lead_scored;
  }
  return 0;
}

std::optional<endpoint> parse_endpoint(std::string_view url, std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (url.size() > max_url || !url.starts_with(scheme) || has_control_chars(url) ||
      url.find(' ') != url.npos) {
    why = url.starts_with("https://")
            ? "https:// endpoints are not supported yet; use http:// (e.g. behind a local "
              "TLS-terminating proxy)"
            : "'url' must be an http:// URL of at most 2000 characters without spaces";
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  endpoint e;
  e.target = slash == rest.npos ? "/" : std::string{rest.substr(slash)};
  if (!e.target.empty() && e.target.front() == '?')
    e.target.insert(e.target.begin(), '/');
  if (authority.find('@') != authority.npos) {
    why = "'url' must not carry credentials: the signature authenticates deliveries";
    return std::nullopt;
  }
  auto colon = authority.rfind(':');
  if (colon != authority.npos && authority.find(']') == authority.npos) {
    e.host = authority.substr(0, colon);
    e.port = authority.substr(colon + 1);
  } else {
    e.host = authority;
    e.port = "80";
  }
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(e.port.data(), e.port.data() + e.port.size(), port);
  if (e.host.empty() || ec != std::errc{} || end != e.port.data() + e.port.size() || port == 0 ||
      port > 65535) {
    why = "'url' needs a host and, when given, a port from 1 to 65535";
    return std::nullopt;
  }
  return e;
}

std::optional<problem> parse_webhook(std::string_view body, bool is_patch, webhook& out) {
  object obj;
  if (auto p = parse_object(body, obj, "a webhook"))
    return p;
  webhook w = out;
  bool has_url = false, has_kinds = false;
  for (auto [key, v] : obj) {
    if (key == "url") {
      std::string_view s;
      std::string why;
      if (v.get_string().get(s))
        return wrong_type("url", "an http:// URL (a string)");
      if (!parse_endpoint(s, why))
        return bad(errc::invalid_field, why);
      w.url = s;
      has_url = true;
    } else if (key == "events") {
      if (auto p = parse_kinds(v, w.kinds))
        return p;
      has_kinds = true;
    } else if (key == "threshold") {
      if (auto p = parse_threshold(v, w.threshold))
        return p;
    } else if (key == "secret") {
      std::string_view s;
      if (v.get_string().get(s) || s.size() < 16 || s.size() > 200 || has_control_chars(s))
        return wrong_type("secret", "a string of 16 to 200 characters (or leave it out: one "
                                    "is generated)");
      w.secret = s;
    } else if (key == "active") {
      bool b = true;
      if (v.get_bool().get(b))
        return wrong_type("active", "true or false (false pauses new deliveries)");
      w.active = b;
    } else {
      return bad(errc::unknown_field, "unknown field '" + std::string{key} +
                                        "' (known: url, events, threshold, secret, active)");
    }
  }
  if (!is_patch && !has_url)
    return bad(errc::invalid_field, "field 'url' is required: where deliveries are POSTed");
  if (!is_patch && !has_kinds)
    return bad(errc::invalid_field,
               "field 'events' is required: the kinds to deliver (" + kinds_known() + ")");
  if ((w.kinds & kind_threshold) && !w.threshold)
    return bad(errc::invalid_field, "'lead.threshold_crossed' needs 'threshold': {\"score\": "
                                    "80, \"hysteresis\": 5}");
  if (!(w.kinds & kind_threshold) && w.threshold)
    return bad(errc::invalid_field,
               "'threshold' applies to the 'lead.threshold_crossed' kind: add it to 'events'");
  if (w.secret.empty())
    w.secret = "whsec_" + random_hex(24);
  out = std::move(w);
  return std::nullopt;
}

void write_webhook(std::string& out, const webhook& w, bool with_secret) {
  out += "{\"id\":\"";
  append_id(out, w.id);
  out += "\",\"url\":";
  append_json_string(out, w.url);
  out += ",\"events\":[";
  bool first = true;
  for (auto& k : kind_names)
    if (w.kinds & k.bit) {
      if (!first)
        out += ',';
      first = false;
      out += '"';
      out += k.name;
      out += '"';
    }
  out += "],\"threshold\":";
  if (w.threshold) {
    out += "{\"score\":";
    out += format_points(w.threshold->score);
    out += ",\"hysteresis\":";
    out += format_points(w.threshold->hysteresis);
    out += '}';
  } else {
    out += "null";
  }
  out += ",\"active\":";
  out += w.active ? "true" : "false";
  if (with_secret) {
    out += ",\"secret\":";
    append_json_string(out, w.secret);
  }
  out += ",\"created_at\":\"";
  append_time(out, w.created_at);
  out += "\",\"updated_at\":\"";
  append_time(out, w.updated_at);
  out += "\"}";
}

std::optional<webhook> decode_webhook(std::string_view stored, uint64_t org) {
  object obj;
  if (parse_object(stored, obj, "a stored webhook"))
    return std::nullopt;
  webhook w;
  w.org = org;
  for (auto [key, v] : obj) {
    std::string_view s;
    if (key == "id" && !v.get_string().get(s)) {
      auto id = parse_id(s);
      w.id = id ? *id : 0;
    } else if (key == "url" && !v.get_string().get(s)) {
      w.url = s;
    } else if (key == "events") {
      parse_kinds(v, w.kinds);
    } else if (key == "threshold") {
      parse_threshold(v, w.threshold);
    } else if (key == "active") {
      bool b = true;
      w.active = v.get_bool().get(b) ? true : b;
    } else if (key == "secret" && !v.get_string().get(s)) {
      w.secret = s;
    } else if ((key == "created_at" || key == "updated_at") && !v.get_string().get(s)) {
      auto t = parse_time(s);
      (key == "created_at" ? w.created_at : w.updated_at) = t ? *t : 0;
    }
  }
  std::string why;
  if (w.id == 0 || w.secret.empty() || !parse_endpoint(w.url, why))
    return std::nullopt;
  return w;
}

std::string_view state_name(delivery::state_t s) {
  switch (s) {
    case delivery::pending: return "pending";
    case delivery::delivered: return "delivered";
    case delivery::parked: return "parked";
  }
  return "pending";
}

std::optional<delivery::state_t> parse_state(std::string_view name) {
  for (auto s : {delivery::pending, delivery::delivered, delivery::parked})
    if (state_name(s) == name)
      return s;
  return std::nullopt;
}

void write_delivery(std::string& out, const delivery& d, bool with_body) {
  out += "{\"id\":\"";
  append_id(out, d.id);
  out += "\",\"webhook_id\":\"";
  append_id(out, d.hook);
  out += "\",\"seq\":" + std::to_string(d.seq) + ",\"type\":";
  append_json_string(out, d.type);
  out += ",\"state\":\"";
  out += state_name(d.state);
  out += "\",\"attempts\":" + std::to_string(d.attempts) + ",\"created_at\":\"";
  append_time(out, d.created_at);
  out += "\",\"next_attempt_at\":";
  if (d.state == delivery::pending) {
    out += '"';
    append_time(out, d.next_at);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"recent_attempts\":[";
  for (size_t i = 0; i < d.recent.size(); ++i) {
    auto& a = d.recent[i];
    if (i)
      out += ',';
    out += "{\"at\":\"";
    append_time(out, a.at);
    out += "\",\"status\":";
    out += a.status ? std::to_string(a.status) : "null";
    out += ",\"error\":";
    if (a.error.empty())
      out += "null";
    else
      append_json_string(out, a.error);
    out += ",\"ms\":" + std::to_string(a.ms) + "}";
  }
  out += ']';
  if (with_body) {
    out += ",\"body\":";
    out += d.body;
  }
  out += '}';
}

std::string encode_delivery(const delivery& d) {
  std::string out;
  out.reserve(300 + d.body.size());
  write_delivery(out, d, false);
  out += '\n';
  out += d.body;
  return out;
}

std::optional<delivery> decode_delivery(std::string_view stored) {
  auto nl = stored.find('\n');
  if (nl == stored.npos)
    return std::nullopt;
  object obj;
  if (parse_object(stored.substr(0, nl), obj, "a stored delivery"))
    return std::nullopt;
  delivery d;
  for (auto [key, v] : obj) {
    std::string_view s;
    uint64_t n = 0;
    if ((key == "id" || key == "webhook_id") && !v.get_string().get(s)) {
      auto id = parse_id(s);
      (key == "id" ? d.id : d.hook) = id ? *id : 0;
    } else if (key == "seq" && !v.get_uint64().get(n)) {
      d.seq = n;
    } else if (key == "type" && !v.get_string().get(s)) {
      d.type = s;
    } else if (key == "state" && !v.get_string().get(s)) {
      d.state = parse_state(s).value_or(delivery::pending);
    } else if (key == "attempts" && !v.get_uint64().get(n)) {
      d.attempts = static_cast<uint32_t>(n);
    } else if (key == "created_at" && !v.get_string().get(s)) {
      d.created_at = parse_time(s).value_or(0);
    } else if (key == "next_attempt_at" && !v.get_string().get(s)) { // to the millisecond
      d.next_at = parse_time(s).value_or(0);
    } else if (key == "recent_attempts") {
      simdjson::dom::array a;
      if (v.get_array().get(a))
        continue;
      for (auto x : a) {
        delivery::attempt at;
        int64_t status = 0;
        if (!x["at"].get_string().get(s))
          at.at = parse_time(s).value_or(0);
        if (!x["status"].get_int64().get(status))
          at.status = static_cast<int>(status);
        if (!x["error"].get_string().get(s))
          at.error = s;
        if (!x["ms"].get_uint64().get(n))
          at.ms = static_cast<uint32_t>(n);
        d.recent.push_back(std::move(at));
      }
    }
  }
  d.body = stored.substr(nl + 1);
  if (d.id == 0 || d.hook == 0)
    return std::nullopt;
  return d;
}

std::optional<problem> parse_replay_request(std::string_view body, std::vector<uint64_t>& ids) {
  object obj;
  if (auto p = parse_object(body, obj, "a replay request"))
    return p;
  for (auto [key, v] : obj) {
    if (key != "ids")
      return bad(errc::unknown_field, "unknown field '" + std::string{key} + "' (known: ids)");
    simdjson::dom::array a;
    if (v.get_array().get(a) || a.size() > 1000)
      return wrong_type("ids", "an array of at most 1000 delivery ids");
    for (auto x : a) {
      std::string_view s;
      auto id = x.get_string().get(s) ? std::nullopt : parse_id(s);
      if (!id)
        return wrong_type("ids", "delivery ids (16 hex digits each)");
      ids.push_back(*id);
    }
  }
  return std::nullopt;
}

std::string delivery_body(uint64_t id, uint64_t hook, std::string_view type, millis at,
                          std::string_view data) {
  std::string out;
  out.reserve(data.size() + 150);
  out += "{\"id\":\"";
  append_id(out, id);
  out += "\",\"webhook_id\":\"";
  append_id(out, hook);
  out += "\",\"type\":\"";
  out += type;
  out += "\",\"created_at\":\"";
  append_time(out, at);
  out += "\",\"data\":";
  out += data;
  out += '}';
  return out;
}

} // namespace hotlead
