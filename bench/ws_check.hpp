// hotlead-wsfanout --check: the change feed's promises, checked end to end
// with this project's own Beast client (tests/e2e/test_stream_beast.py runs
// it). S subscribers subscribe to "leads"; the writer then posts M events
// over the leads, one in flight per lead, on several connections. Every
// subscriber must receive exactly M messages, seqs consecutive (each one
// checked on arrival, so a duplicate, a reordering or a gap is caught where
// it happens), the same first and last seq as every other subscriber, and
// per lead as many messages as that lead had acknowledged writes.
// Subscriber 0 also closes after M/4 messages and resumes with resume_from
// once M/8 more writes were acknowledged: it must end with the same
// messages as the others, the ones it missed replayed before its ack.
// Threading: main, through fanout (ws_fanout.hpp); the final checks read the
// subscribers after fanout::stop() joined their thread.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <string>

#include "ws_fanout.hpp"

namespace hotlead::bench {

/// The first broken promise among the subscribers; empty when none.
inline std::string check_subscribers(fanout& f, uint64_t m) {
  const auto& subs = f.subs.subs;
  const auto& want_per_lead = f.writer.ok_per_lead();
  for (auto& s : subs) {
    auto who = "subscriber " + std::to_string(s->index);
    if (s->violations)
      return s->first_violation + " (" + std::to_string(s->violations) + " violations in all)";
    if (s->current() != subscriber::state::live)
      return who + " is not subscribed at the end: " +
             (s->end_reason.empty() ? std::string{"closed"} : s->end_reason) +
             " on its connection #" + std::to_string(s->opens) + ", after seq " +
             std::to_string(s->last_seq) + " (" + std::to_string(s->messages) + " of " +
             std::to_string(m) + " messages)";
    if (s->messages != m)
      return who + " received " + std::to_string(s->messages) + " messages, not " +
             std::to_string(m);
    if (s->first_seq != subs[0]->first_seq || s->last_seq != subs[0]->last_seq)
      return who + " saw seqs " + std::to_string(s->first_seq) + ".." +
             std::to_string(s->last_seq) + ", subscriber 0 saw " +
             std::to_string(subs[0]->first_seq) + ".." + std::to_string(subs[0]->last_seq);
    for (size_t l = 0; l < want_per_lead.size(); ++l)
      if (s->per_lead[l] != want_per_lead[l])
        return who + " received " + std::to_string(s->per_lead[l]) + " messages about lead #" +
               std::to_string(l) + ", which had " + std::to_string(want_per_lead[l]) +
               " acknowledged writes";
  }
  auto& d = *f.subs.drill;
  if (!d.resumed)
    return "subscriber 0 never closed and resumed (the resume drill did not run)";
  if (subs[0]->opens != 2)
    return "subscriber 0 connected " + std::to_string(subs[0]->opens) + " times, not 2";
  if (subs[0]->replayed == 0)
    return "subscriber 0 resumed from seq " + std::to_string(d.resumed_from) + " after " +
           std::to_string(d.progress_at_resume - d.progress_at_close) +
           " writes were acknowledged without it, yet nothing was replayed before its ack";
  return {};
}

inline int run_check(const fanout_options& o, fanout& f) {
  const size_t n = o.subscribers;
  const uint64_t m = o.writes;
  const auto t0 = clock_type::now();
  auto left = [&] { return std::max(0.1, o.timeout - seconds_since(t0)); };
  using st = subscriber::state;

  run_on(f.sub_io, [&] {
    resume_drill d;
    d.after = m / 4;
    d.progress = [&w = f.writer] { return w.completed(); };
    d.gap = std::max<uint64_t>(1, m / 8);
    d.total = m;
    f.subs.drill = d;
    f.subs.open(n, {});
  });
  auto settled = [&] { return f.subs.count(st::live) + f.subs.count(st::dropped) == n; };
  f.wait_for_subscribers(settled, std::min(left(), 15.0));
  if (auto live = run_on(f.sub_io, [&] { return f.subs.count(st::live); }); live != n) {
    auto why = run_on(f.sub_io, [&] {
      auto waiting = f.subs.count(st::connecting) + f.subs.count(st::subscribing);
      std::string w = "; " + std::to_string(waiting) + " still connecting or waiting for it";
      for (auto& s : f.subs.subs)
        if (!s->end_reason.empty())
          return w + "; first failure: " + s->end_reason;
      return w;
    });
    return failed(std::to_string(live) + " of " + std::to_string(n) +
                  " subscribers got their 'subscribed' ack within 15 s" + why);
  }

  auto r = f.run_phase({o.rate, 0, 0, m, false}, left());
  if (!r)
    return failed("the writer did not finish " + std::to_string(m) + " writes within --timeout " +
                  std::to_string(o.timeout) + " s");
  if (r->ok != m)
    return failed(std::to_string(r->ok) + " of " + std::to_string(m) +
                  " writes were acknowledged; first error: " + r->first_error);

  // Until every message arrived, or a violation or a drop decided already.
  auto settled_all = [&] {
    bool arrived = f.subs.drill->resumed;
    for (auto& s : f.subs.subs) {
      if (s->violations || s->current() == st::dropped)
        return true;
      arrived = arrived && (s->messages >= m || s->current() != st::live);
    }
    return arrived;
  };
  f.wait_for_subscribers(settled_all, left());
  // A duplicate or stray message would come after the last expected one.
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  f.stop();

  if (auto why = check_subscribers(f, m); !why.empty())
    return failed(why);
  auto& d = *f.subs.drill;
  auto& s0 = *f.subs.subs[0];
  std::printf("{\"mode\":\"check\",\"ok\":true,\"subscribers\":%zu,\"leads\":%zu,\"connections\":%zu,"
              "\"writes\":%" PRIu64 ",\"writes_ok\":%" PRIu64 ",\"messages_per_subscriber\":%" PRIu64
              ",\"delivered\":%" PRIu64 ",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64
              ",\"resume\":{\"subscriber\":0,\"closed_after_seq\":%" PRIu64
              ",\"resumed_from\":%" PRIu64 ",\"writes_while_away\":%" PRIu64
              ",\"replayed\":%" PRIu64 "},\"write_seconds\":%.3f,\"seconds\":%.3f}\n",
              n, o.leads, o.connections, m, r->ok, s0.messages, f.env.receipts.load(),
              s0.first_seq, s0.last_seq, d.closed_after_seq, d.resumed_from,
              d.progress_at_resume - d.progress_at_close, s0.replayed, r->seconds,
              seconds_since(t0));
  return 0;
}

} // namespace hotlead::bench
