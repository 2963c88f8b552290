// Deterministic, realistic-looking bench leads, shared by hotlead-gen (which
// writes them straight into RocksDB, or as Redis commands) and hotlead-bench
// (which creates them through POST /v1/leads). Standard library only: the
// load generator must not depend on the server's code.
//
// A sample lead has the 8 text fields of protocol/lead.hpp (external_id,
// email, first_name, last_name, company, title, phone, owner), a source, a
// status, two tags, 5 custom attributes (2 strings, 2 numbers, 1 bool) and
// a time-ordered list of events over 6 types with skewed frequencies.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/mix.hpp"

namespace hotlead::bench {

using hotlead::splitmix64;

/// A small, fast PRNG (xorshift64*), seeded through splitmix64.
struct rng {
  uint64_t s;
  explicit rng(uint64_t seed) : s(splitmix64(seed) | 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545f4914f6cdd1dULL;
  }
  /// Uniform in [0, n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
};

inline constexpr std::array<std::string_view, 24> first_names = {
  "Ada",   "Grace", "Alan",   "Linus", "Barbara", "Ken",    "Dennis", "Margaret",
  "Edsger", "Donald", "Frances", "John", "Radia",  "Tim",    "Sophie", "Hedy",
  "Karen", "Niklaus", "Leslie", "Anita", "Guido",  "Bjarne", "Katherine", "Yukihiro"};
inline constexpr std::array<std::string_view, 24> last_names = {
  "Lovelace", "Hopper",   "Turing",  "Torvalds", "Liskov",  "Thompson", "Ritchie", "Hamilton",
  "Dijkstra", "Knuth",    "Allen",   "Backus",   "Perlman", "Berners-Lee", "Wilson", "Lamarr",
  "Jones",    "Wirth",    "Lamport", "Borg",     "Rossum",  "Stroustrup", "Johnson", "Matsumoto"};
inline constexpr std::array<std::string_view, 16> companies = {
  "Acme Corporation", "Globex",          "Initech",        "Umbrella Health",
  "Hooli",            "Stark Industries", "Wayne Enterprises", "Soylent Foods",
  "Cyberdyne Systems", "Tyrell Corp",    "Wonka Industries", "Vandelay Imports",
  "Massive Dynamic",  "Aperture Science", "Pied Piper",     "Oscorp"};
inline constexpr std::array<std::string_view, 12> titles = {
  "VP Engineering", "CTO",           "Head of Marketing", "Sales Director",
  "Product Manager", "Data Engineer", "Procurement Lead", "CFO",
  "Operations Manager", "IT Director", "Growth Lead",    "Founder"};
inline constexpr std::array<std::string_view, 5> sources = {"web", "referral", "ads", "event",
                                                            "partner"};
inline constexpr std::array<std::string_view, 6> statuses = {
  "new", "contacted", "qualified", "unqualified", "converted", "lost"};
inline constexpr std::array<std::string_view, 6> tag_pool = {"q4", "enterprise", "smb",
                                                             "newsletter", "trial", "vip"};
inline constexpr std::array<std::string_view, 6> industries = {
  "software", "healthcare", "finance", "retail", "manufacturing", "education"};
inline constexpr std::array<std::string_view, 4> regions = {"emea", "amer", "apac", "latam"};

/// The 6 event types and their relative weights (page views dominate).
inline constexpr std::array<std::string_view, 6> event_types = {
  "page_view", "email_open", "email_click", "form_submit", "webinar_signup", "demo_request"};
inline constexpr std::array<unsigned, 6> event_weights = {50, 20, 12, 8, 6, 4};

inline std::string_view pick_event_type(rng& r) {
  unsigned total = 0;
  for (auto w : event_weights)
    total += w;
  auto x = static_cast<unsigned>(r.below(total));
  for (size_t i = 0; i < event_types.size(); ++i) {
    if (x < event_weights[i])
      return event_types[i];
    x -= event_weights[i];
  }
  return event_types[0];
}

inline std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    else if (c == ' ')
      c = '-';
  return out;
}

/// Event properties as a JSON object: a page path and a campaign.
inline std::string event_properties(rng& r, std::string_view type) {
  static constexpr std::array<std::string_view, 6> paths = {"/", "/pricing", "/docs",
                                                            "/blog/launch", "/contact",
                                                            "/features"};
  std::string out = "{\"path\":\"";
  out += paths[r.below(paths.size())];
  out += "\",\"campaign\":\"c";
  out += std::to_string(r.below(40));
  out += "\"";
  if (type == "form_submit" || type == "demo_request")
    out += ",\"form\":\"contact-us\"";
  out += '}';
  return out;
}

using attr_value = std::variant<std::string, double, bool>;

struct sample_event {
  std::string type;
  int64_t ts = 0; // epoch milliseconds
  std::string properties_json;
};

struct sample_lead {
  uint64_t id = 0; // meaningful for hotlead-gen only (the server makes its own ids)
  std::string external_id, email, first_name, last_name, company, title, phone, owner;
  std::string source, status;
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, attr_value>> attributes; // exactly 5
  std::vector<sample_event> events;                            // oldest first
  int64_t created_at = 0;
};

/// The lead number `i` of a data set named by `seed`: the same inputs give
/// the same lead (and id). Events lie within the 90 days before `now_ms`.
inline sample_lead make_sample(uint64_t seed, uint64_t i, size_t n_events, int64_t now_ms) {
  rng r{seed * 0x100000001b3ULL ^ i};
  sample_lead l;
  l.id = splitmix64(seed ^ splitmix64(i + 1));
  if (l.id == 0)
    l.id = 1;
  auto first = first_names[r.below(first_names.size())];
  auto last = last_names[r.below(last_names.size())];
  auto company = companies[r.below(companies.size())];
  l.first_name = first;
  l.last_name = last;
  l.company = company;
  l.title = titles[r.below(titles.size())];
  l.external_id = "crm-" + std::to_string(seed % 100000) + "-" + std::to_string(i);
  l.email = lower(first) + "." + lower(last) + "." + std::to_string(seed % 100000) + "." +
            std::to_string(i) + "@" + lower(company) + ".example";
  l.phone = "+1 555 " + std::to_string(100 + r.below(900)) + " " +
            std::to_string(1000 + r.below(9000));
  l.owner = "rep" + std::to_string(r.below(25)) + "@sales.example";
  l.source = sources[r.below(sources.size())];
  l.status = statuses[r.below(statuses.size())];
  l.tags = {std::string{tag_pool[r.below(3)]}, std::string{tag_pool[3 + r.below(3)]}};
  l.attributes.emplace_back("industry", std::string{industries[r.below(industries.size())]});
  l.attributes.emplace_back("employees", static_cast<double>(10 + r.below(5000)));
  l.attributes.emplace_back("score", static_cast<double>(r.below(1000)) / 10.0);
  l.attributes.emplace_back("newsletter", r.below(2) == 1);
  l.attributes.emplace_back("region", std::string{regions[r.below(regions.size())]});
  constexpr int64_t day = 86'400'000;
  l.created_at = now_ms - 90 * day + static_cast<int64_t>(r.below(10 * day));
  int64_t t = l.created_at;
  int64_t span = now_ms - l.created_at - 60'000;
  int64_t step = n_events ? span / static_cast<int64_t>(n_events) : 0;
  for (size_t e = 0; e < n_events; ++e) {
    t += 1 + static_cast<int64_t>(r.below(static_cast<uint64_t>(std::max<int64_t>(step, 1))));
    sample_event ev;
    ev.type = pick_event_type(r);
    ev.ts = t;
    ev.properties_json = event_properties(r, ev.type);
    l.events.push_back(std::move(ev));
  }
  return l;
}

/// The POST /v1/leads body of a sample lead (values need no JSON escapes).
inline std::string create_body(const sample_lead& l) {
  std::string b;
  b.reserve(512);
  auto str = [&b](std::string_view name, std::string_view v, bool comma = true) {
    b += '"';
    b += name;
    b += "\":\"";
    b += v;
    b += '"';
    if (comma)
      b += ',';
  };
  b += '{';
  str("external_id", l.external_id);
  str("email", l.email);
  str("first_name", l.first_name);
  str("last_name", l.last_name);
  str("company", l.company);
  str("title", l.title);
  str("phone", l.phone);
  str("owner", l.owner);
  str("source", l.source);
  str("status", l.status);
  b += "\"tags\":[";
  for (size_t i = 0; i < l.tags.size(); ++i) {
    if (i)
      b += ',';
    b += '"' + l.tags[i] + '"';
  }
  b += "],\"attributes\":{";
  for (size_t i = 0; i < l.attributes.size(); ++i) {
    if (i)
      b += ',';
    b += '"' + l.attributes[i].first + "\":";
    auto& v = l.attributes[i].second;
    if (auto* s = std::get_if<std::string>(&v))
      b += '"' + *s + '"';
    else if (auto* d = std::get_if<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.10g", *d);
      b += buf;
    } else
      b += std::get<bool>(v) ? "true" : "false";
  }
  b += "}}";
  return b;
}

} // namespace hotlead::bench
