// Synthetic demo leads (see demo_data.hpp): the latent-intent model and the
// activity timeline, over the tables of demo_tables.hpp. Everything is drawn from a splitmix64 stream keyed by (seed, lead index) or, for what
// belongs to a company (size, country, domain), by (seed, company index), so
// colleagues at one company agree on it.
#include "protocol/demo_data.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

#include "protocol/demo_tables.hpp"
#include "protocol/mix.hpp"

namespace hotlead {

namespace {

using namespace demo_detail;

constexpr millis day = 86'400'000;

// -- randomness ----------------------------------------------------------------

constexpr uint64_t golden = golden_gamma;
constexpr auto mix = mix64;

/// splitmix64, one stream per (seed, salt, index).
struct rng {
  uint64_t s;
  rng(uint64_t seed, uint64_t salt, uint64_t index)
    : s(mix(mix(seed ^ salt * golden) + index * golden)) {}
  uint64_t next() {
    return mix(s += golden);
  }
  /// Uniform in [0, 1).
  double uniform() {
    return static_cast<double>(next() >> 11) * 0x1p-53;
  }
  /// Uniform in [0, n).
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>(((next() >> 32) * n) >> 32);
  }
  bool chance(double p) {
    return uniform() < p;
  }
  /// Mean 0, variance 1, within +-3.46 (a sum of four uniforms: no libm).
  double normal() {
    return (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772;
  }
  /// An index drawn with the given (non-negative) weights.
  template <size_t N>
  size_t weighted(const std::array<double, N>& w) {
    double total = 0;
    for (double x : w)
      total += x;
    double x = uniform() * total;
    for (size_t k = 0; k + 1 < N; ++k) {
      if (x < w[k])
        return k;
      x -= w[k];
    }
    return N - 1;
  }
};

/// exp(x) as (1 + x/1024)^1024: ten squarings, no libm, so the same numbers
/// come out on every platform; within 3% of exp for |x| <= 8, ample here.
double exp_approx(double x) {
  x = x < -1000 ? -1000 : x > 50 ? 50 : x;
  double y = 1.0 + x / 1024.0;
  for (int k = 0; k < 10; ++k)
    y *= y;
  return y;
}

/// The logistic function, 1 / (1 + e^-x).
double logistic(double x) {
  return 1.0 / (1.0 + exp_approx(-x));
}

/// Lead i's (first, last) name indexes: a 4-round Feistel permutation of
/// the low 14 bits of i, keyed by the seed and the block of 16,384 leads.
std::pair<uint32_t, uint32_t> name_pair(uint64_t seed, uint64_t i) {
  uint64_t key = mix(seed * golden ^ mix(i >> 14));
  auto l = static_cast<uint32_t>((i >> 7) & 127), r = static_cast<uint32_t>(i & 127);
  for (uint64_t round = 0; round < 4; ++round) {
    uint32_t f = static_cast<uint32_t>(mix(key + round * golden + r)) & 127;
    uint32_t t = l ^ f;
    l = r;
    r = t;
  }
  return {l, r};
}

/// What colleagues at one company share.
struct company {
  uint32_t stem = 0, kind = 0, country = 0, industry = 0;
  double employees = 0, size = 0; // size: band index + position in it, 0..6
  double revenue = 0;
  bool legal_suffix = false, dot_io = false;
};

company company_of(uint64_t seed, uint32_t c) {
  rng r{seed, 2, c};
  company co;
  co.stem = c / company_kinds.size();
  co.kind = c % company_kinds.size();
  co.industry = company_kinds[co.kind].industry;
  co.country = static_cast<uint32_t>(r.weighted(country_weights));
  size_t band = r.weighted(band_weights);
  double u = r.uniform();
  co.employees = static_cast<double>(
    static_cast<int64_t>(band_low[band] + (band_high[band] - band_low[band]) * u * u + 0.5));
  co.size = static_cast<double>(band) + u;
  double revenue = co.employees * industries[co.industry].revenue_per_head *
                   (0.6 + 0.8 * r.uniform());
  co.revenue = static_cast<double>(static_cast<int64_t>(revenue / 10000 + 0.5) * 10000);
  co.legal_suffix = r.chance(0.35);
  co.dot_io = co.industry == 0 && r.chance(0.4);
  return co;
}

std::string company_name(const company& co) {
  std::string s{company_stems[co.stem]};
  s += ' ';
  s += company_kinds[co.kind].word;
  if (co.legal_suffix)
    s += countries[co.country].legal;
  return s;
}

/// Lower-case letters of `s` appended to `out` ("Blue Harbor" -> "blueharbor").
void append_letters(std::string& out, std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else if (c >= 'a' && c <= 'z')
      out += c;
}

void append_domain(std::string& out, const company& co) {
  append_letters(out, company_stems[co.stem]);
  append_letters(out, company_kinds[co.kind].word);
  out += co.dot_io ? ".io" : ".com";
}

std::string phone_of(rng& r, const country_info& c) {
  char buf[40];
  if (c.dial == "+1")
    std::snprintf(buf, sizeof buf, "+1 (%u) 555-%04u", 201 + r.below(780), r.below(10000));
  else
    std::snprintf(buf, sizeof buf, "%.*s %u %03u %04u", static_cast<int>(c.dial.size()),
                  c.dial.data(), 10 + r.below(90), r.below(1000), r.below(10000));
  std::string out{buf};
  if (r.chance(0.04))
    out += " x" + std::to_string(100 + r.below(900));
  return out;
}

std::string_view props_of(rng& r, kind k) {
  switch (k) {
    case page_view: return page_props[r.below(page_props.size())];
    case pricing_view: return R"({"path":"/pricing"})";
    case webinar: return webinar_props[r.below(webinar_props.size())];
    case form_submit: return form_props[r.below(form_props.size())];
    case demo_request: return R"({"form":"book-a-demo"})";
    default: return campaign_props[r.below(campaign_props.size())];
  }
}

struct draft {
  millis ts = 0;
  kind k = page_view;
  std::string_view props;
};

/// A lead's activity before it has times: a first touch from its source,
/// then kinds drawn with intent-dependent weights (h in (0, 1)).
struct activity {
  std::array<draft, 40> events;
  size_t n = 0;
  std::array<uint8_t, kind_count> count{};
};

activity draw_activity(rng& r, double z, double h, size_t source) {
  activity a;
  double reach = std::max(0.1, 1.0 + 0.55 * z);
  double mean = 5.6 * reach * reach * (0.3 + 1.4 * r.uniform()); // overdispersed
  double p = std::min(1.0, mean / 40.0);
  size_t n = 0;
  for (int k = 0; k < 40; ++k)
    n += r.uniform() < p;
  if (n == 0)
    return a;
  std::array<double, kind_count> w = {
    40, 3 + 8 * h, 30 - 14 * h, 8 + 4 * h, 2 + 5 * h, 3 + 6 * h, 0.3 + 6 * h * h, 1.0 - 0.9 * h};
  a.events[0] = {0, first_touch[source].k, first_touch[source].props};
  ++a.count[first_touch[source].k];
  for (a.n = 1; a.n < n; ++a.n) {
    auto k = static_cast<kind>(r.weighted(w));
    if (a.count[k] >= kind_cap[k])
      k = page_view;
    ++a.count[k];
    a.events[a.n] = {0, k, props_of(r, k)};
  }
  return a;
}

/// Spreads the events over [start, end], each near its kind's stage of the
/// journey, oldest first; nothing e-mail follows an unsubscribe.
void place(rng& r, activity& a, millis start, millis end) {
  if (a.n == 0)
    return;
  a.events[0].ts = start;
  auto span = static_cast<double>(end - start - 1);
  for (size_t e = 1; e < a.n; ++e) {
    double u = 0.5 * kind_stage[a.events[e].k] + 0.5 * r.uniform();
    a.events[e].ts = start + 1 + static_cast<millis>(u * span);
  }
  std::sort(a.events.begin() + 1, a.events.begin() + static_cast<ptrdiff_t>(a.n),
            [](const draft& x, const draft& y) { return x.ts < y.ts; });
  bool unsubscribed = false;
  for (size_t e = 0; e < a.n; ++e) {
    auto& d = a.events[e];
    if (unsubscribed && (d.k == email_open || d.k == email_click))
      d = {d.ts, page_view, page_props[r.below(page_props.size())]};
    unsubscribed |= d.k == unsubscribe;
  }
}

// -- outcome -------------------------------------------------------------------

lead_status outcome(rng& r, double z, const activity& a) {
  bool demo = a.count[demo_request] > 0;
  double n = static_cast<double>(a.n);
  if (r.chance(logistic(1.4 * z - 2.6 + 1.2 * demo + 0.03 * n)))
    return lead_status::converted;
  if (r.chance(logistic(-2.6 - 0.9 * z)))
    return lead_status::lost;
  if (r.chance(logistic(-3.2 - 0.8 * z)))
    return lead_status::unqualified;
  double progress = z + 0.6 * r.normal() + 0.05 * n;
  return progress < -0.3 ? lead_status::new_
         : progress < 0.8 ? lead_status::contacted
                          : lead_status::qualified;
}

/// How long ago (days) a lead with that status first showed up: new leads
/// are recent, closed ones had time to close.
std::pair<double, double> age_days(lead_status s) {
  switch (s) {
    case lead_status::new_: return {0.2, 21};
    case lead_status::contacted: return {2, 60};
    case lead_status::qualified: return {5, 80};
    case lead_status::converted: return {14, 89.5};
    default: return {10, 89.5};
  }
}

// -- the lead ------------------------------------------------------------------

std::vector<std::string> tags_of(rng& r, const company& co, double h) {
  std::vector<std::string> tags;
  auto add = [&](std::string_view t) {
    if (tags.size() < 3)
      tags.emplace_back(t);
  };
  if (co.employees >= 1000 && r.chance(0.2 * h))
    add("vip");
  if (auto region = countries[co.country].region; !region.empty() && r.chance(0.5))
    add(region);
  if (co.employees >= 1000 && r.chance(0.6))
    add("enterprise");
  else if (co.employees < 100 && r.chance(0.4))
    add("smb");
  if (r.chance(0.2))
    add("newsletter");
  return tags;
}

void add_attributes(rng& r, const company& co, double z, lead_patch& p) {
  auto& at = p.attributes;
  at.reserve(6);
  at.emplace_back("employees", attr_value{co.employees});
  at.emplace_back("industry", attr_value{std::string{industries[co.industry].name}});
  at.emplace_back("country", attr_value{std::string{countries[co.country].name}});
  double plan = 0.45 * (co.size - 2.8) + 0.4 * z + 0.5 * r.normal();
  at.emplace_back("plan_interest", attr_value{std::string{plan < -0.3  ? "starter"
                                                          : plan < 0.7 ? "professional"
                                                                       : "enterprise"}});
  if (r.chance(0.75))
    at.emplace_back("annual_revenue", attr_value{co.revenue});
  at.emplace_back("trial", attr_value{r.chance(logistic(0.9 * z - 0.4))});
}

/// What the generator knows about a lead before its activity and outcome:
/// the observable traits and the hidden intent they (partly) explain.
struct profile {
  uint32_t company_index = 0;
  company co;
  bool freemail = false;
  size_t level = 0, source = 0;
  double z = 0; // latent intent, roughly N(-0.25, 1)
  double h = 0; // logistic(1.2 z): intent as a share in (0, 1)
};

profile draw_profile(rng& r, uint64_t seed) {
  profile p;
  p.company_index = r.below(company_count);
  p.co = company_of(seed, p.company_index);
  const bool small = p.co.size < 2; // under 50 employees: more founders, more free-mail
  p.freemail = r.chance(small ? 0.18 : 0.05);
  p.level = r.weighted(std::array<double, 5>{34, 28, 18, 10, small ? 25.0 : 10.0});
  p.source = r.weighted(source_weights);
  // What the sales team could guess from the lead, plus what it cannot.
  p.z = -0.35 + 0.32 * (p.co.size - 2.8) + seniority_intent[p.level] +
        source_intent[p.source] + industries[p.co.industry].intent -
        (p.freemail ? 0.35 : 0.0) + 0.75 * r.normal();
  p.h = logistic(1.2 * p.z);
  return p;
}

/// first.last@domain; from lead 16,384 on, first.last2@, first.last3@, ...
std::string email_of(rng& r, uint64_t i, uint32_t first, uint32_t last, const profile& pr) {
  std::string email;
  email.reserve(48);
  append_letters(email, first_names[first]);
  email += '.';
  append_letters(email, last_names[last]);
  if (uint64_t block = i >> 14)
    email += std::to_string(block + 1);
  email += '@';
  if (pr.freemail)
    email += free_mail[r.below(free_mail.size())];
  else
    append_domain(email, pr.co);
  return email;
}

void fill_patch(rng& r, uint64_t seed, uint64_t i, const profile& pr, lead_status status,
                lead_patch& p) {
  auto [first, last] = name_pair(seed, i);
  p.email.set(email_of(r, i, first, last, pr));
  p.first_name.set(std::string{first_names[first]});
  p.last_name.set(std::string{last_names[last]});
  if (!pr.freemail || r.chance(0.6))
    p.company.set(company_name(pr.co));
  if (r.chance(0.92))
    p.title.set(std::string{titles[pr.level][r.below(titles[pr.level].size())]});
  if (r.chance(0.3 + 0.4 * pr.h)) // keen leads leave their number
    p.phone.set(phone_of(r, countries[pr.co.country]));
  p.source.set(std::string{sources[pr.source]});
  p.status.set(status);
  if (status != lead_status::new_) // one rep per account
    p.owner.set(std::string{sales_reps[mix(seed ^ pr.company_index) % sales_reps.size()]});
  p.tags.set(tags_of(r, pr.co, pr.h));
  add_attributes(r, pr.co, pr.z, p);
}

} // namespace

demo_lead make_demo_lead(uint64_t i, const demo_options& o) {
  const millis now = o.now ? o.now : now_ms();
  rng r{o.seed, 1, i};
  const profile pr = draw_profile(r, o.seed);
  activity act = draw_activity(r, pr.z, pr.h, pr.source);
  const lead_status status = outcome(r, pr.z, act);
  // Closed leads went quiet some time before now.
  auto [lo, hi] = age_days(status);
  const millis start = now - static_cast<millis>((lo + (hi - lo) * r.uniform()) * day);
  millis end = now;
  if (status == lead_status::lost || status == lead_status::unqualified)
    end = start + static_cast<millis>((0.35 + 0.5 * r.uniform()) * static_cast<double>(now - start));
  place(r, act, start, end);

  demo_lead d;
  d.first_seen = start;
  fill_patch(r, o.seed, i, pr, status, d.patch);
  d.events.reserve(act.n);
  for (size_t e = 0; e < act.n; ++e) {
    auto& x = act.events[e];
    d.events.push_back({std::string{kind_type[x.k]}, x.ts, std::string{x.props}});
  }
  return d;
}

} // namespace hotlead
