"""The ws-fanout scenario's tables (bench/run.sh): reads the JSON lines of
the hotlead-wsfanout runs in DIR (t.N: paced at RATE, then the max-rate
phases; l.N: paced at LOW alone, when LOW is not 0) and prints one table per
kind of run with a median row, and whether the targets were met.

    python3 bench/ws_report.py DIR REPEAT RATE LOW
"""
import json
import statistics
import sys

PACED_HEAD = "%-6s | %9s %9s | %9s %9s %9s | %12s | %7s | %9s %9s"
PACED_ROW = "%-6s | %9.0f %9.1f | %9.1f %9.1f %9.1f | %12.0f | %7d | %9.2f %9.2f"


def load(path):
    return json.loads(open(path).read().strip().splitlines()[-1])


def paced_table(runs, what):
    """Prints the paced phase of each run; returns the median row."""
    print()
    print("paced at %.0f writes/s, subscribers attached%s (latencies in ms; CPU us per delivery):"
          % (runs[0]["paced"]["target_rate"], what))
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
    """Prints the max-rate phases of each run; returns the median ratio."""
    print()
    print("as fast as the connections go: writes/s without subscribers (before they connect, "
          "after they close) and with them attached:")
    print("%-6s | %10s %10s %10s | %6s | %11s | %10s %10s"
          % ("run", "without", "with", "without", "ratio", "live at end", "p99 w/o ms",
             "p99 w/ ms"))
    for i, j in enumerate(runs):
        m = j["max_rate"]
        print("%-6s | %10.0f %10.0f %10.0f | %6.2f | %5d/%5d | %10.1f %10.1f"
              % (i + 1, m["without_before"], m["with"], m["without_after"], m["ratio"],
                 m["with_live_at_end"], j["subscribed"], m["write_p99_us_without"] / 1e3,
                 m["write_p99_us_with"] / 1e3))
    ratio = statistics.median(j["max_rate"]["ratio"] for j in runs)
    print("%-6s | %10s %10s %10s | %6.2f |" % ("median", "", "", "", ratio))
    print("(ratio: with / the mean of both without; live at end: subscribers the server had not "
          "dropped as slow consumers)")
    return ratio


def main():
    out, repeat, rate, low = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    target = [load("%s/t.%d" % (out, r)) for r in range(1, repeat + 1)]
    low_runs = [load("%s/l.%d" % (out, r)) for r in range(1, repeat + 1)] if low else []
    first = target[0]
    print("### ws-fanout: %d WebSocket subscribers of \"leads\" (one org); POST "
          "/v1/leads/{id}/events over %d connections, one in flight per lead (%d leads); "
          "--durability sync; %.0f s (+%.0f s warm-up) per phase"
          % (first["subscribers"], first["connections"], first["leads"], first["duration_s"],
             first["warmup_s"]))
    print("delivery: from the writer sending a write to a subscriber receiving its message "
          "(one client process, one steady clock), over every subscriber's receipts")
    paced = paced_table(target, "")
    if low_runs:
        paced_table(low_runs, " (the paced phase alone)")
    ratio = max_rate_table(target)

    runs = target + low_runs
    print("write errors (non-2xx + socket): %d; seq gaps or duplicates seen by subscribers: %d; "
          "messages never delivered to attached subscribers: %d"
          % (sum(j["errors_non2xx"] + j["errors_socket"] for j in runs),
             sum(j["seq_violations"] for j in runs), sum(j["paced"]["undelivered"] for j in runs)))
    reasons = sorted({j["drop_reason"] for j in runs if j["drop_reason"]})
    if reasons:
        print("how subscribers were dropped: %s" % "; ".join(reasons))
    subs, dropped = first["subscribers"], paced[6]
    timed = statistics.median(j["paced"]["deliveries_timed"] for j in target)
    p99 = "delivery p99 %.1f ms" % paced[3] if timed else "no delivery timed"
    print("target: %d subscribers kept at %.0f writes/s (none dropped) -> median %d dropped, %s: %s"
          % (subs, rate, dropped, p99, "MET" if dropped == 0 else "MISSED"))
    live = min(j["max_rate"]["with_live_at_end"] for j in target)
    verdict = "MET" if ratio >= 0.8 and live == subs else "MISSED"
    if live < subs:
        verdict += " (subscribers were dropped: 'with' measured fewer of them)"
    print("target: writes/s with the subscribers attached within 20%% of without -> %.2fx, "
          "%d of %d attached at the end: %s" % (ratio, live, subs, verdict))


if __name__ == "__main__":
    main()
