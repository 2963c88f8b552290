#include "protocol/json_out.hpp"

#include <charconv>
#include <cmath>

#include "protocol/ids.hpp"

namespace hotlead {

namespace {

void key(std::string& out, std::string_view k) {
  out += '"';
  out += k;
  out += "\":";
}

void text_field(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  if (v.empty())
    out += "null";
  else
    append_json_string(out, v);
  out += ',';
}

void time_field(std::string& out, std::string_view k, millis t) {
  key(out, k);
  if (t == 0) {
    out += "null";
  } else {
    out += '"';
    append_time(out, t);
    out += '"';
  }
  out += ',';
}

void write_attr(std::string& out, const attr_value& v) {
  if (auto* s = std::get_if<std::string>(&v))
    append_json_string(out, *s);
  else if (auto* d = std::get_if<double>(&v))
    append_json_number(out, *d);
  else
    out += std::get<bool>(v) ? "true" : "false";
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  // Hot (a lead's JSON holds ~30 strings): copy runs of plain characters in
  // one append, escape the rest one by one.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[(c >> 4) & 0xf];
        out += hex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, res.ptr);
}

void write_lead(std::string& out, const lead& l) {
  out += "{\"id\":\"";
  append_id(out, l.id);
  out += "\",\"org_id\":\"";
  append_id(out, l.org);
  out += "\",";
  text_field(out, "external_id", l.get(text::external_id));
  text_field(out, "email", l.get(text::email));
  text_field(out, "first_name", l.get(text::first_name));
  text_field(out, "last_name", l.get(text::last_name));
  text_field(out, "company", l.get(text::company));
  text_field(out, "title", l.get(text::title));
  text_field(out, "phone", l.get(text::phone));
  key(out, "source");
  if (l.source == 0)
    out += "null";
  else
    append_json_string(out, symbol_name(l.source));
  out += ",\"status\":\"";
  out += to_string(l.status);
  out += "\",";
  text_field(out, "owner", l.get(text::owner));
  out += "\"tags\":[";
  for (size_t i = 0; i < l.tags.size(); ++i) {
    if (i)
      out += ',';
    append_json_string(out, symbol_name(l.tags[i]));
  }
  out += "],\"attributes\":{";
  for (size_t i = 0; i < l.attributes.size(); ++i) {
    if (i)
      out += ',';
    append_json_string(out, symbol_name(l.attributes[i].key));
    out += ':';
    write_attr(out, l.attributes[i].value);
  }
  out += "},";
  time_field(out, "created_at", l.created_at);
  time_field(out, "updated_at", l.updated_at);
  time_field(out, "last_activity_at", l.last_activity_at);
  out += "\"activity\":{\"events\":";
  out += std::to_string(l.event_seq);
  out += ",\"by_type\":{";
  for (size_t i = 0; i < l.counters.size(); ++i) {
    auto& c = l.counters[i];
    if (i)
      out += ',';
    append_json_string(out, symbol_name(c.type));
    out += ":{\"count\":";
    out += std::to_string(c.count);
    out += ',';
    time_field(out, "first_at", c.first_at);
    key(out, "last_at");
    out += '"';
    append_time(out, c.last_at);
    out += "\"}";
  }
  out += "}}}";
}

std::string lead_json(const lead& l) {
  std::string out;
  // Room for the fixed part, the text, and each counter, attribute and tag,
  // so the string is allocated once.
  out.reserve(448 + l.texts.heap_bytes() + 112 * l.counters.size() + 48 * l.attributes.size() +
              24 * l.tags.size());
  write_lead(out, l);
  return out;
}

std::string event_record(const event_input& ev) {
  std::string out;
  out.reserve(64 + ev.type.size() + ev.properties_json.size());
  out += "{\"type\":";
  append_json_string(out, ev.type);
  out += ",\"ts\":\"";
  append_time(out, ev.ts);
  out += "\",\"properties\":";
  out += ev.properties_json;
  out += '}';
  return out;
}

void write_org(std::string& out, const org& o) {
  out += "{\"id\":\"";
  append_id(out, o.id);
  out += "\",\"name\":";
  append_json_string(out, o.name);
  out += ',';
  text_field(out, "industry", o.industry);
  out += "\"plan\":";
  append_json_string(out, o.plan);
  out += ",\"created_at\":\"";
  append_time(out, o.created_at);
  out += "\"}";
}

void write_key(std::string& out, const api_key& k, std::string_view secret) {
  out += "{\"id\":\"";
  append_id(out, k.id);
  out += "\",\"org_id\":\"";
  append_id(out, k.org);
  out += "\",\"role\":\"";
  out += to_string(k.key_role);
  out += "\",\"name\":";
  append_json_string(out, k.name);
  out += ",\"created_at\":\"";
  append_time(out, k.created_at);
  out += '"';
  if (!secret.empty()) {
    out += ",\"key\":";
    append_json_string(out, secret);
  }
  out += '}';
}

std::string problem_json(const problem& p, std::string_view instance) {
  std::string out;
  out.reserve(256);
  out += "{\"type\":\"https://hotlead.dev/problems/";
  out += code_name(p.code);
  out += "\",\"title\":";
  append_json_string(out, title(p.code));
  out += ",\"status\":";
  out += std::to_string(http_status(p.code));
  out += ",\"code\":\"";
  out += code_name(p.code);
  out += "\",\"detail\":";
  append_json_string(out, p.detail.empty() ? title(p.code) : std::string_view{p.detail});
  if (!instance.empty()) {
    out += ",\"instance\":";
    append_json_string(out, instance);
  }
  out += '}';
  return out;
}

} // namespace hotlead
