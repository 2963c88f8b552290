"""The ws-fanout scenario's tables (bench/run.sh): reads the JSON lines of
the hotlead-wsfanout runs in DIR and prints one table per kind of run with a
median row, and whether the targets were met. The kinds, each present for
runs 1..REPEAT or not at all:
  t.N  paced at RATE, then the max-rate windows (per-lead topics, or "leads")
  l.N  every subscriber on "leads", paced at a rate the server sustains
  c.N  every subscriber on "leads", paced above what the server delivers:
       its deliveries/s is the server's capacity

    python3 bench/ws_report.py DIR REPEAT RATE
"""
import json
import os
import statistics
import sys

PACED_HEAD = "%-6s | %9s %9s | %9s %9s %9s | %12s | %7s | %9s %9s"
PACED_ROW = "%-6s | %9.0f %9.1f | %9.1f %9.1f %9.1f | %12.0f | %7d | %9.2f %9.2f"
P99_TARGET_MS = 5.0


def load(path):
    return json.loads(open(path).read().strip().splitlines()[-1])


def load_kind(out, kind, repeat):
    paths = ["%s/%s.%d" % (out, kind, r) for r in range(1, repeat + 1)]
    return [load(p) for p in paths] if all(os.path.exists(p) for p in paths) else []


def topics(j):
    """What the subscribers took, in words."""
    if j["topic"] == "lead":
        return ("%d subscribers on per-lead topics \"lead:<id>\" (%d leads, each watched by %d)"
                % (j["subscribers"], j["leads"], j["watchers"]))
    return "%d subscribers all on \"leads\" (every write to every subscriber)" % j["subscribers"]


def paced_table(runs, what):
    """Prints the paced phase of each run; returns the median row."""
    print()
    print("%s, paced at %.0f writes/s%s (latencies in ms; CPU us per delivery):"
          % (topics(runs[0]), runs[0]["paced"]["target_rate"], what))
    print(PACED_HEAD % ("run", "writes/s", "write p99", "deliv p50", "deliv p99", "deliv max",
                        "deliveries/s", "dropped", "server", "client"))
    rows = []
    for i, j in enumerate(runs):
        p = j["paced"]
        rows.append((p["write_rate"], p["write_p99_us"] / 1e3, p["delivery_p50_us"] / 1e3,
                     p["delivery_p99_us"] / 1e3, p["delivery_max_us"] / 1e3,
                     p["delivered_per_s"], p["dropped"], p["server_cpu_us_per_delivery"],
                     p["client_cpu_us_per_delivery"]))
        print(PACED_ROW % ((i + 1,) + rows[-1]))
    median = tuple(statistics.median(r[k] for r in rows) for k in range(len(rows[0])))
    print(PACED_ROW % (("median",) + median))
    return median


def max_rate_table(runs):
    """Prints the max-rate windows of each run; returns the median ratio."""
    first = runs[0]
    print()
    print("as fast as the connections go: writes/s in %d windows with the subscribers attached, "
          "each between two without them (subscribers' thread: %s priority):"
          % (first["cycles"], first["subscriber_priority"]))
    print("%-6s | %-31s | %-23s | %-20s | %6s | %11s | %12s | %10s %10s"
          % ("run", "without", "with", "ratios", "ratio", "live at end", "deliveries/s",
             "p99 w/o ms", "p99 w/ ms"))
    for i, j in enumerate(runs):
        m = j["max_rate"]
        print("%-6s | %-31s | %-23s | %-20s | %6.2f | %5d/%5d | %12.0f | %10.1f %10.1f"
              % (i + 1, " ".join("%.0f" % v for v in m["without"]),
                 " ".join("%.0f" % v for v in m["with"]),
                 " ".join("%.2f" % v for v in m["ratios"]), m["ratio"],
                 m["with_live_at_end"], j["subscribed"], m["with_delivered_per_s"],
                 m["write_p99_us_without"] / 1e3, m["write_p99_us_with"] / 1e3))
    ratio = statistics.median(j["max_rate"]["ratio"] for j in runs)
    print("%-6s | %-31s | %-23s | %-20s | %6.2f |" % ("median", "", "", "", ratio))
    print("(a window's ratio: its writes/s over the mean of the two without it either side; a "
          "run's ratio: the median of its windows'; live at end: subscribers the server had not "
          "dropped as slow consumers)")

    def med(key, side):
        return statistics.median(j["max_rate"][key][side] for j in runs)
    sub = statistics.median(j["max_rate"]["subscriber_cpu_us_per_delivery_with"] for j in runs)
    print("CPU us per write (medians): server %.1f without, %.1f with; client (writer and "
          "subscribers) %.1f without, %.1f with; the subscribers' thread %.1f per delivery"
          % (med("server_cpu_us_per_write", "without"), med("server_cpu_us_per_write", "with"),
             med("client_cpu_us_per_write", "without"), med("client_cpu_us_per_write", "with"),
             sub))
    return ratio


def main():
    out, repeat, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    target = load_kind(out, "t", repeat)
    low_runs, cap_runs = load_kind(out, "l", repeat), load_kind(out, "c", repeat)
    first = target[0]
    print("### ws-fanout: WebSocket subscribers of one org's change feed; POST "
          "/v1/leads/{id}/events over %d connections, one in flight per lead; "
          "--durability sync; %.0f s (+%.0f s warm-up) per phase"
          % (first["connections"], first["duration_s"], first["warmup_s"]))
    print("delivery: from the writer sending a write to a subscriber receiving its message "
          "(one client process, one steady clock), over every subscriber's receipts")
    paced = paced_table(target, ", then as fast as it goes")
    ratio = max_rate_table(target)
    if low_runs:
        paced_table(low_runs, " (the paced phase alone)")
    capacity = None
    if cap_runs:
        cap = paced_table(cap_runs, " (more than it delivers: the paced phase alone)")
        capacity, subs = cap[5], cap_runs[0]["subscribers"]
        asked = cap_runs[0]["paced"]["target_rate"] * subs
        saturated = capacity < 0.98 * asked
        print("capacity with every subscriber on \"leads\": %s%.0f deliveries/s (%.0f writes/s x "
              "%d subscribers; %.0f asked%s); server CPU %.2f us per delivery"
              % ("" if saturated else "at least ", capacity, capacity / subs, subs, asked,
                 "" if saturated else ", all delivered: raise --capacity-rate", cap[7]))

    runs = target + low_runs + cap_runs
    print()
    print("write errors (non-2xx + socket): %d; seq gaps or duplicates seen by subscribers: %d; "
          "messages never delivered to attached subscribers: %d"
          % (sum(j["errors_non2xx"] + j["errors_socket"] for j in runs),
             sum(j["seq_violations"] for j in runs), sum(j["paced"]["undelivered"] for j in runs)))
    reasons = sorted({j["drop_reason"] for j in runs if j["drop_reason"]})
    if reasons:
        print("how subscribers were dropped: %s" % "; ".join(reasons))

    subs, write_rate, p99, dropped = first["subscribers"], paced[0], paced[3], paced[6]
    timed = statistics.median(j["paced"]["deliveries_timed"] for j in target)
    met = dropped == 0 and timed > 0 and p99 < P99_TARGET_MS and write_rate >= 0.95 * rate
    print("target: delivery p99 < %.0f ms with %d subscribers (%s) at %.0f writes/s -> median "
          "%.0f writes/s achieved, %d dropped, %s: %s"
          % (P99_TARGET_MS, subs, "per-lead topics" if first["topic"] == "lead" else "\"leads\"",
             rate, write_rate, dropped,
             "delivery p99 %.1f ms" % p99 if timed else "no delivery timed",
             "MET" if met else "MISSED"))
    live = min(j["max_rate"]["with_live_at_end"] for j in target)
    verdict = "MET" if ratio >= 0.8 and live == subs else "MISSED"
    if live < subs:
        verdict += " (subscribers were dropped: 'with' measured fewer of them)"
    print("target: writes/s with the subscribers attached within 20%% of without -> %.2fx, "
          "%d of %d attached at the end: %s" % (ratio, live, subs, verdict))
    if first["topic"] == "lead" and low_runs:
        print("every subscriber on \"leads\" asks %.0f writes/s x %d = %.0f deliveries/s for "
              "the same target%s"
              % (rate, subs, rate * subs,
                 "; the server delivered %.0f at most" % capacity if capacity is not None else ""))


if __name__ == "__main__":
    main()
