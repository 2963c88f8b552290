// hotlead-wsfanout's benchmark: what N subscribers of the change feed cost
// the writers, and how long a change takes to reach them. The subscribers
// take every change ("leads"), or with --topic lead each one the changes of
// its own leads, so that a write reaches --watchers of them. The phases,
// each a warm-up and a measured window, on fresh writer connections:
//   1. writes as fast as C connections go, no subscriber;
//   2. N subscribers connected, writes paced at --rate: write-to-delivery
//      latency over every subscriber's receipt (send time from the writer's
//      send_log, receipt time on the same steady_clock), deliveries/s;
//   3. --cycles K times: writes as fast as they go with the N subscribers
//      attached (the closed or dropped ones subscribe again first, live
//      from then), then with them closed.
// So each "with" window lies between two "without" ones, and its ratio is
// its writes/s over their mean: a server that slows down as its data grows,
// or a background compaction in one window, is not blamed on the
// subscribers. The reported ratio is the median of the K ratios.
// A subscriber the server drops (a slow consumer) is counted, not
// reconnected within a window: a window whose subscribers were all dropped
// measured writes without them, which its `live_at_end` shows.
// --skip-max-rate runs phase 2 alone. Threading: main, through fanout (ws_fanout.hpp).
#pragma once

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ws_fanout.hpp"

namespace hotlead::bench {

struct phase_report {
  write_result w;
  uint64_t receipts = 0;    // feed messages received by all subscribers in the window
  size_t dropped = 0;       // subscribers the server dropped during the phase
  size_t live_at_end = 0;   // subscribers still attached after it
  uint64_t undelivered = 0; // messages live subscribers still lacked after the drain
  double server_cpu_s = -1, client_cpu_s = 0; // CPU time used in the window
  double sub_cpu_s = 0; // of it, the subscribers' thread (all its work is receiving)
};

class bench_run {
public:
  bench_run(const fanout_options& o, fanout& f) : o_(o), f_(f) {}

  int run() {
    std::vector<phase_report> without, with;
    auto max_rate = [&](std::vector<phase_report>& into, std::string name) {
      auto p = phase(name.c_str(), 0, false);
      if (p)
        into.push_back(std::move(*p));
      return p.has_value();
    };
    if (!o_.skip_max_rate && !max_rate(without, "1 max rate, no subscribers"))
      return 1;
    if (!subscribe())
      return 1;
    auto paced = phase("2 paced, subscribers attached", o_.rate, true);
    if (!paced)
      return 1;
    auto latency = run_on(f_.sub_io, [&] { return f_.env.latency; });
    for (size_t k = 1; !o_.skip_max_rate && k <= o_.cycles; ++k) {
      run_on(f_.sub_io, [&, acked = acked()] { f_.subs.reopen(acked); });
      f_.wait_for_subscribers([&] { return settled(); }, 120);
      auto cycle = "3." + std::to_string(k) + " max rate, ";
      if (!max_rate(with, cycle + "subscribers attached"))
        return 1;
      run_on(f_.sub_io, [&] { f_.subs.close_all(); });
      f_.wait_for_subscribers([&] { return live() == 0; }, 10);
      if (!max_rate(without, cycle + "subscribers closed"))
        return 1;
    }
    f_.stop(); // the subscribers are read directly from here on
    std::vector<const phase_report*> all{&*paced};
    for (auto* v : {&without, &with})
      for (auto& p : *v)
        all.push_back(&p);
    std::printf("{\"mode\":\"bench\",%s,\"paced\":%s,\"max_rate\":%s,%s}\n", setup_json().c_str(),
                paced_json(*paced, latency).c_str(),
                with.empty() ? "null" : max_rate_json(without, with).c_str(),
                outcome_json(all).c_str());
    return 0;
  }

private:
  using st = subscriber::state;

  size_t live() const {
    return f_.subs.count(st::live);
  }

  // The writer's acknowledged writes per lead. Main calls this only between
  // phases: the writer's thread is idle, and the phase's result, passed
  // through a future, orders its writes before this read.
  std::vector<uint64_t> acked() const {
    return f_.writer.ok_per_lead();
  }

  // No subscriber is still connecting or waiting for its acks.
  bool settled() const {
    return f_.subs.count(st::connecting) + f_.subs.count(st::subscribing) == 0;
  }

  bool subscribe() {
    auto t0 = clock_type::now();
    run_on(f_.sub_io, [&, acked = acked()] { f_.subs.open(o_.subscribers, acked); });
    f_.wait_for_subscribers([&] { return settled(); }, 120);
    connect_s_ = seconds_since(t0);
    subscribed_ = run_on(f_.sub_io, [&] { return live(); });
    std::fprintf(stderr, "  %zu of %zu subscribers subscribed in %.2f s\n", subscribed_,
                 o_.subscribers, connect_s_);
    if (subscribed_ == 0)
      failed("no subscriber could subscribe: " + first_drop_reason());
    return subscribed_ > 0;
  }

  // One phase; with subscribers, deliveries are counted in the window and
  // the live ones are given time to receive everything written.
  std::optional<phase_report> phase(const char* name, double rate, bool log_sends) {
    phase_report rep;
    auto dropped0 = run_on(f_.sub_io, [&] { return f_.subs.count(st::dropped); });
    auto result = f_.start_phase({rate, o_.warmup, o_.duration, 0, log_sends});
    auto t0 = clock_type::now();
    std::this_thread::sleep_until(t0 + secs(o_.warmup));
    auto r0 = f_.env.receipts.load();
    auto c0 = own_cpu_seconds();
    auto sub0 = run_on(f_.sub_io, thread_cpu_seconds);
    auto s0 = o_.server_pid > 0 ? process_cpu_seconds(o_.server_pid) : -1;
    std::this_thread::sleep_until(t0 + secs(o_.warmup + o_.duration));
    rep.receipts = f_.env.receipts.load() - r0;
    rep.client_cpu_s = own_cpu_seconds() - c0;
    rep.sub_cpu_s = run_on(f_.sub_io, thread_cpu_seconds) - sub0;
    if (s0 >= 0)
      rep.server_cpu_s = process_cpu_seconds(o_.server_pid) - s0;
    auto w = fanout::wait_phase(result, 60);
    if (!w) {
      failed(std::string{name} + ": the writer did not finish within 60 s of its end");
      return std::nullopt;
    }
    rep.w = std::move(*w);
    if (subscribed_) {
      auto behind = [&, acked = acked()] {
        uint64_t n = 0;
        for (auto& s : f_.subs.subs)
          if (auto want = s->watched_writes(acked) - s->writes_before;
              s->current() == st::live && s->messages < want)
            n += want - s->messages;
        return n;
      };
      f_.wait_for_subscribers([&] { return behind() == 0; }, 15);
      rep.undelivered = run_on(f_.sub_io, behind);
      rep.dropped = run_on(f_.sub_io, [&] { return f_.subs.count(st::dropped); }) - dropped0;
      rep.live_at_end = run_on(f_.sub_io, [&] { return live(); });
    }
    std::fprintf(stderr, "  %-36s %9.0f writes/s  write p99 %7.0f us  %10.0f deliveries/s  "
                         "dropped %zu\n",
                 name, rate_of(rep), us(rep.w.latency, 0.99), per_s(rep.receipts), rep.dropped);
    return rep;
  }

  std::string first_drop_reason() {
    return run_on(f_.sub_io, [&] {
      for (auto& s : f_.subs.subs)
        if (!s->end_reason.empty())
          return s->end_reason;
      return std::string{};
    });
  }

  // -- the JSON line ------------------------------------------------------------------------

  double per_s(uint64_t n) const {
    return static_cast<double>(n) / o_.duration;
  }
  double rate_of(const phase_report& p) const {
    return per_s(p.w.ok_in_window);
  }
  static double us(const histogram& h, double q) {
    return static_cast<double>(h.quantile(q)) / 1e3;
  }
  static std::string fmt(const char* f, auto... args) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
  }

  std::string setup_json() const {
    return fmt("\"topic\":\"%s\",\"watchers\":%zu,\"subscribers\":%zu,\"subscribed\":%zu,"
               "\"connect_s\":%.2f,\"leads\":%zu,\"connections\":%zu,\"warmup_s\":%.1f,"
               "\"duration_s\":%.1f,\"cycles\":%zu,\"subscriber_priority\":\"%s\"",
               o_.per_lead_topics ? "lead" : "leads", o_.per_lead_topics ? o_.watchers : o_.subscribers,
               o_.subscribers, subscribed_, connect_s_, o_.leads, o_.connections, o_.warmup,
               o_.duration, o_.cycles, o_.subscriber_idle ? "idle" : "normal");
  }

  std::string paced_json(const phase_report& p, const histogram& lat) const {
    auto per_delivery = [&](double cpu_s) {
      return cpu_s < 0 || !p.receipts ? -1.0 : cpu_s * 1e6 / static_cast<double>(p.receipts);
    };
    return fmt("{\"target_rate\":%.0f,\"write_rate\":%.1f,\"write_p50_us\":%.1f,"
               "\"write_p99_us\":%.1f,\"delivery_p50_us\":%.1f,\"delivery_p99_us\":%.1f,"
               "\"delivery_p999_us\":%.1f,\"delivery_max_us\":%.1f,\"deliveries_timed\":%" PRIu64
               ",\"delivered_per_s\":%.1f,\"dropped\":%zu,\"live_at_end\":%zu,"
               "\"undelivered\":%" PRIu64 ",\"server_cpu_us_per_delivery\":%.2f,"
               "\"client_cpu_us_per_delivery\":%.2f,\"subscriber_cpu_us_per_delivery\":%.2f}",
               o_.rate, rate_of(p), us(p.w.latency, 0.5), us(p.w.latency, 0.99), us(lat, 0.5),
               us(lat, 0.99), us(lat, 0.999), static_cast<double>(lat.max()) / 1e3, lat.total(),
               per_s(p.receipts), p.dropped, p.live_at_end, p.undelivered,
               per_delivery(p.server_cpu_s), per_delivery(p.client_cpu_s),
               per_delivery(p.sub_cpu_s));
  }

  // CPU time over the writes acknowledged in the window (-1: not known).
  double per_write(const phase_report& p, double cpu_s) const {
    return cpu_s < 0 || !p.w.ok_in_window ? -1.0
                                          : cpu_s * 1e6 / static_cast<double>(p.w.ok_in_window);
  }

  static double median(std::vector<double> v) {
    if (v.empty())
      return -1;
    std::sort(v.begin(), v.end());
    auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static std::string json_list(const std::vector<double>& v, const char* f) {
    std::string out = "[";
    for (auto x : v)
      out += (out.size() > 1 ? "," : "") + fmt(f, x);
    return out + "]";
  }

  // Window k of `with` lies between windows k and k+1 of `without`.
  std::string max_rate_json(const std::vector<phase_report>& without,
                            const std::vector<phase_report>& with) const {
    std::vector<double> ratios;
    for (size_t k = 0; k < with.size(); ++k) {
      double reference = (rate_of(without[k]) + rate_of(without[k + 1])) / 2;
      ratios.push_back(reference > 0 ? rate_of(with[k]) / reference : 0.0);
    }
    auto each = [](const std::vector<phase_report>& ps, auto value) {
      std::vector<double> v;
      for (auto& p : ps)
        v.push_back(value(p));
      return v;
    };
    auto med = [&](const std::vector<phase_report>& ps, auto value) {
      return median(each(ps, value));
    };
    auto rate = [&](const phase_report& p) { return rate_of(p); };
    auto server = [&](const phase_report& p) { return per_write(p, p.server_cpu_s); };
    auto client = [&](const phase_report& p) { return per_write(p, p.client_cpu_s); };
    uint64_t receipts = 0, undelivered = 0;
    size_t dropped = 0, live_at_end = o_.subscribers;
    double sub_cpu = 0;
    for (auto& p : with) {
      receipts += p.receipts;
      undelivered += p.undelivered;
      dropped += p.dropped;
      live_at_end = std::min(live_at_end, p.live_at_end);
      sub_cpu += p.sub_cpu_s;
    }
    return fmt("{\"without\":%s,\"with\":%s,\"ratios\":%s,\"ratio\":%.3f,",
               json_list(each(without, rate), "%.1f").c_str(),
               json_list(each(with, rate), "%.1f").c_str(), json_list(ratios, "%.3f").c_str(),
               median(ratios)) +
           fmt("\"write_p99_us_without\":%.1f,\"write_p99_us_with\":%.1f,"
               "\"with_delivered_per_s\":%.1f,\"with_dropped\":%zu,\"with_live_at_end\":%zu,"
               "\"with_undelivered\":%" PRIu64 ",",
               med(without, [](auto& p) { return us(p.w.latency, 0.99); }),
               med(with, [](auto& p) { return us(p.w.latency, 0.99); }),
               per_s(receipts) / static_cast<double>(with.size()), dropped, live_at_end,
               undelivered) +
           fmt("\"server_cpu_us_per_write\":{\"without\":%.2f,\"with\":%.2f},"
               "\"client_cpu_us_per_write\":{\"without\":%.2f,\"with\":%.2f},"
               "\"subscriber_cpu_us_per_delivery_with\":%.2f}",
               med(without, server), med(with, server), med(without, client), med(with, client),
               receipts ? sub_cpu * 1e6 / static_cast<double>(receipts) : -1.0);
  }

  // Errors of every phase and what the subscribers saw (after fanout::stop()).
  std::string outcome_json(const std::vector<const phase_report*>& phases) const {
    uint64_t non2xx = 0, socket = 0, violations = 0;
    std::string first_error, first_violation, drop_reason;
    for (auto* p : phases) {
      if (!p)
        continue;
      non2xx += p->w.non2xx;
      socket += p->w.socket_errors;
      if (first_error.empty())
        first_error = p->w.first_error;
    }
    for (auto& s : f_.subs.subs) {
      violations += s->violations;
      if (first_violation.empty())
        first_violation = s->first_violation;
      if (drop_reason.empty())
        drop_reason = s->end_reason;
    }
    return fmt("\"errors_non2xx\":%" PRIu64 ",\"errors_socket\":%" PRIu64, non2xx, socket) +
           ",\"first_error\":" + json_string(first_error) +
           fmt(",\"seq_violations\":%" PRIu64, violations) +
           ",\"first_violation\":" + json_string(first_violation) +
           ",\"drop_reason\":" + json_string(drop_reason);
  }

  static clock_type::duration secs(double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  }

  const fanout_options& o_;
  fanout& f_;
  size_t subscribed_ = 0;
  double connect_s_ = 0;
};

} // namespace hotlead::bench
