// Synthetic, realistic leads and their activity for `hotlead demo` and a
// server's first start: a newcomer sees scored, explained leads at once, and
// a conversion model trained on them finds real signal. Each lead has a
// hidden "intent" drawn from what a sales team would see (company size,
// title seniority, source, industry, free-mail address) plus noise; intent
// drives how much activity the lead shows, which kinds (demo requests,
// pricing views and webinars rather than e-mail opens) and its outcome
// (converted, lost, unqualified or still open). Overall about 15% convert,
// 10% are lost, and a lead has 0-40 events (about 6 on average).
//
// Pure functions of (seed, index, now): no shared state, so any thread may
// generate any lead, in chunks or in parallel. The same inputs give the same
// leads in any one build; only basic arithmetic is used (no libm), so builds
// can differ at most where a compiler fuses multiply-adds (-ffp-contract).
#pragma once

#include <cstdint>
#include <vector>

#include "protocol/lead.hpp"
#include "protocol/time.hpp"

namespace hotlead {

/// Events lie within this window before `now`.
inline constexpr millis demo_window = 90LL * 86'400'000;

struct demo_lead {
  /// As a validated POST /v1/leads body gives it: email (lower-case, unique
  /// within a seed), first/last name, company (absent for some free-mail
  /// leads), title (mostly), phone (about half), source, status, owner
  /// (for leads someone works on), 0-3 tags and the attributes employees,
  /// industry, country, plan_interest, annual_revenue (mostly) and trial.
  lead_patch patch;
  /// Oldest first, each within [now - demo_window, now]; properties_json is
  /// a minified JSON object ("{}" when none).
  std::vector<event_input> events;
  /// When the lead first showed up (its first event, if any, is at this time
  /// or later). The API sets created_at itself; a caller writing leads
  /// directly may use this instead.
  millis first_seen = 0;
};

struct demo_options {
  uint64_t seed = 42;
  /// 0 = now_ms(), read at every call: a caller generating a run in several
  /// calls should resolve it once, or the leads of one run drift apart.
  millis now = 0;
};

/// The i-th lead (0-based) of the run named by o.seed: the same (seed, i,
/// now) always gives the same lead, so callers can generate in chunks, in
/// parallel, without holding all of them. E-mails are distinct for all i of
/// one seed (first.last@domain, then first.last2@..., once every name pair of
/// 16,384 leads is used).
demo_lead make_demo_lead(uint64_t i, const demo_options& o);

} // namespace hotlead
