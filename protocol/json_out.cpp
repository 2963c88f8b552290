#include "protocol/json_out.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "protocol/ids.hpp"
#include "protocol/json_escape.hpp"

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

// Writes JSON into memory sized beforehand (lead_json_bound(), quoted_bound()):
// no capacity check per piece. A GET's answer is mostly a lead written by it
// (docs/PERFORMANCE.md).
struct json_writer {
  char* p;

  template <size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    p += N - 1;
  }
  void raw(std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  // Most strings need no escape: copy them whole and check 8 bytes at a
  // time; only a string with something to escape takes the byte loop.
  void str(std::string_view s) {
    *p++ = '"';
    if (!needs_json_escape(s))
      raw(s);
    else
      escaped(s);
    *p++ = '"';
  }
  void escaped(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      raw(s.substr(run, i - run));
      run = i + 1;
      *p++ = '\\';
      switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        default:
          lit("u00");
          *p++ = hex[(c >> 4) & 0xf];
          *p++ = hex[c & 0xf];
      }
    }
    raw(s.substr(run));
  }
  // "key":"text", or "key":null when empty; with a trailing comma. `plain`:
  // the caller knows that `v` needs no escape.
  template <size_t N>
  void text_field(const char (&quoted_key)[N], std::string_view v, bool plain = false) {
    lit(quoted_key);
    if (v.empty()) {
      lit("null");
    } else if (plain) {
      *p++ = '"';
      raw(v);
      *p++ = '"';
    } else {
      str(v);
    }
    *p++ = ',';
  }
  // An interned name: its JSON literal is made once, when interned.
  void sym(symbol s) {
    raw(symbol_json(s));
  }
  void quoted_time(millis t) {
    *p++ = '"';
    p = write_time(p, t);
    *p++ = '"';
  }
  template <size_t N>
  void time_field(const char (&quoted_key)[N], millis t) {
    lit(quoted_key);
    if (t == 0)
      lit("null");
    else
      quoted_time(t);
    *p++ = ',';
  }
  void id(uint64_t v) {
    *p++ = '"';
    p = write_id(p, v);
    *p++ = '"';
  }
  void uint(uint64_t v) {
    p = std::to_chars(p, p + 20, v).ptr;
  }
  // Shortest round-trip form; null for NaN and infinities. At most 32 bytes.
  void number(double d) {
    if (std::isfinite(d))
      p = std::to_chars(p, p + 32, d).ptr;
    else
      lit("null");
  }
  void attr(const attr_value& v) {
    if (auto* s = std::get_if<std::string>(&v)) {
      str(*s);
    } else if (auto* d = std::get_if<double>(&v)) {
      number(*d);
    } else if (std::get<bool>(v)) {
      lit("true");
    } else {
      lit("false");
    }
  }
};

// At most 6 output bytes per input byte (\u00XX) plus the quotes.
constexpr size_t quoted_bound(size_t n) {
  return 6 * n + 2;
}

// The exact size of `s` quoted when it needs no escape (the common case,
// checked fast), the bound otherwise: a tight bound means a smaller buffer
// to allocate and clear.
size_t quoted_size_bound(std::string_view s) {
  return needs_json_escape(s) ? quoted_bound(s.size()) : s.size() + 2;
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  auto start = out.size();
  out.resize(start + quoted_bound(s.size()));
  json_writer w{out.data() + start};
  w.str(s);
  out.resize(static_cast<size_t>(w.p - out.data()));
}

void append_json_number(std::string& out, double d) {
  char buf[32];
  json_writer w{buf};
  w.number(d);
  out.append(buf, w.p);
}

// The fixed text of a lead's JSON (keys, punctuation, ids, times, the
// status) is under 600 bytes; the rest is bounded per piece. Texts checked
// when stored (text_fields::plain()) and symbols are their exact size.
size_t lead_json_bound(const lead& l) {
  size_t n = 600;
  if (l.texts.plain())
    n += l.texts.size() + 2 * text_count;
  else
    for (size_t i = 0; i < text_count; ++i)
      n += quoted_size_bound(l.get(static_cast<text>(i)));
  n += symbol_json(l.source).size();
  for (auto t : l.tags)
    n += symbol_json(t).size() + 1;
  for (auto& a : l.attributes) {
    n += symbol_json(a.key).size() + 2;
    auto* s = std::get_if<std::string>(&a.value);
    n += s ? quoted_size_bound(*s) : 32;
  }
  for (auto& c : l.counters) // "type":{"count":N,"first_at":"...","last_at":"..."},
    n += symbol_json(c.type).size() + 100;
  return n;
}

void append_attr_value(std::string& out, const attr_value& v) {
  if (auto* s = std::get_if<std::string>(&v))
    append_json_string(out, *s);
  else if (auto* d = std::get_if<double>(&v))
    append_json_number(out, *d);
  else
    out += std::get<bool>(v) ? "true" : "false";
}

void write_lead(std::string& out, const lead& l) {
  // The lead's parts live in separate heap blocks, usually not in cache:
  // start loading them all at once instead of one miss after another
  // (9.5 vs 10.2 us of server CPU per GET in 8 alternating pairs).
  __builtin_prefetch(l.texts.heap_block());
  __builtin_prefetch(l.tags.data());
  __builtin_prefetch(l.attributes.data());
  __builtin_prefetch(l.counters.data());
  auto start = out.size();
  out.resize(start + lead_json_bound(l));
  json_writer w{out.data() + start};
  bool plain = l.texts.plain();
  w.lit("{\"id\":");
  w.id(l.id);
  w.lit(",\"org_id\":");
  w.id(l.org);
  w.lit(",");
  w.text_field("\"external_id\":", l.get(text::external_id), plain);
  w.text_field("\"email\":", l.get(text::email), plain);
  w.text_field("\"first_name\":", l.get(text::first_name), plain);
  w.text_field("\"last_name\":", l.get(text::last_name), plain);
  w.text_field("\"company\":", l.get(text::company), plain);
  w.text_field("\"title\":", l.get(text::title), plain);
  w.text_field("\"phone\":", l.get(text::phone), plain);
  w.lit("\"source\":");
  if (l.source == 0)
    w.lit("null");
  else
    w.sym(l.source);
  w.lit(",\"status\":\"");
  w.raw(to_string(l.status));
  w.lit("\",");
  w.text_field("\"owner\":", l.get(text::owner), plain);
  w.lit("\"tags\":[");
  for (size_t i = 0; i < l.tags.size(); ++i) {
    if (i)
      *w.p++ = ',';
    w.sym(l.tags[i]);
  }
  w.lit("],\"attributes\":{");
  for (size_t i = 0; i < l.attributes.size(); ++i) {
    if (i)
      *w.p++ = ',';
    w.sym(l.attributes[i].key);
    *w.p++ = ':';
    w.attr(l.attributes[i].value);
  }
  w.lit("},");
  w.time_field("\"created_at\":", l.created_at);
  w.time_field("\"updated_at\":", l.updated_at);
  w.time_field("\"last_activity_at\":", l.last_activity_at);
  w.lit("\"activity\":{\"events\":");
  w.uint(l.event_seq);
  w.lit(",\"by_type\":{");
  for (size_t i = 0; i < l.counters.size(); ++i) {
    auto& c = l.counters[i];
    if (i)
      *w.p++ = ',';
    w.sym(c.type);
    w.lit(":{\"count\":");
    w.uint(c.count);
    *w.p++ = ',';
    w.time_field("\"first_at\":", c.first_at);
    w.lit("\"last_at\":");
    w.quoted_time(c.last_at);
    *w.p++ = '}';
  }
  w.lit("}}}");
  out.resize(static_cast<size_t>(w.p - out.data()));
}

std::string lead_json(const lead& l) {
  std::string out;
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
