#!/usr/bin/env python3
"""Drives the long jobs of bench/run.sh (rescore, train) against a running
hotlead and prints one JSON line: the job's own seconds (started_at to
finished_at, measured by the server), the wall time the client saw, and the
latency of lead reads sent one after another while the job ran, beside the
same reads just before it (the "never blocks requests" check).

  jobs.py rescore PORT KEY [--replay] [--alone]
  jobs.py train PORT KEY [--alone]

--alone: no reads while the job runs (the reads take most of a core from
the same 2 cores: one client reading as fast as it can, and the io thread
answering it), so the job's own time shows apart from that load.
"""
import http.client
import json
import sys
import threading
import time

DEFAULT_FIT = [
    {"id": "has-company", "field": "company", "op": "exists", "points": 10},
    {"id": "chief-title", "field": "title", "op": "contains", "value": "chief", "points": 20},
    {"id": "vp-title", "field": "title", "op": "prefix", "value": "vp", "points": 15},
    {"id": "director-title", "field": "title", "op": "contains", "value": "director",
     "points": 10},
    {"id": "business-email", "field": "email", "op": "exists", "points": 5},
    {"id": "referral", "field": "source", "op": "equals", "value": "referral", "points": 10},
    {"id": "disqualified", "field": "status", "op": "equals", "value": "unqualified",
     "points": -30},
]


class Client:
    def __init__(self, port, key):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.key = key

    def call(self, method, path, body=None):
        h = {"Authorization": "Bearer " + self.key}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        payload = r.read()
        out = json.loads(payload) if payload else None
        if r.status >= 300:
            raise SystemExit("%s %s -> %d %s" % (method, path, r.status, payload[:300]))
        return out


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def probe(port, key, lead_id, stop, out):
    c = Client(port, key)
    while not stop.is_set():
        t0 = time.perf_counter()
        c.call("GET", "/v1/leads/" + lead_id)
        out.append((time.perf_counter() - t0) * 1000)


def reads_for(port, key, lead_id, seconds):
    lat, stop = [], threading.Event()
    t = threading.Thread(target=probe, args=(port, key, lead_id, stop, lat))
    t.start()
    time.sleep(seconds)
    stop.set()
    t.join()
    return lat


def run_job(port, key, lead_id, start, alone=False):
    """start(client) -> job; polls it to the end while probing reads."""
    c = Client(port, key)
    before = reads_for(port, key, lead_id, 2.0)
    lat, stop = [], threading.Event()
    t = threading.Thread(target=probe, args=(port, key, lead_id, stop, lat))
    t0 = time.time()
    job = start(c)
    if not alone:
        t.start()
    # (seconds, done) per poll: a job's total grows as its parts (shards)
    # start, so "done in memory" is judged against the final total.
    polls = []
    while job["state"] == "running":
        time.sleep(0.02)
        job = c.call("GET", "/v1/jobs/" + job["id"])
        polls.append((time.time() - t0, job["done"]))
    wall = time.time() - t0
    # when every item was done in memory (before it was all stored)
    in_memory = next((t for t, d in polls if job["total"] and d >= job["total"]), None)
    stop.set()
    if not alone:
        t.join()
    if job["state"] != "done":
        raise SystemExit("job failed: %s" % job)
    return {"job_seconds": job["seconds"], "wall_seconds": round(wall, 3),
            "memory_seconds": round(in_memory if in_memory is not None else wall, 3),
            "total": job["total"], "replayed": job["replayed"],
            "reads_before": {"n": len(before), "p50_ms": round(percentile(before, 0.5), 3),
                             "p99_ms": round(percentile(before, 0.99), 3)},
            "reads_during": {"n": len(lat), "p50_ms": round(percentile(lat, 0.5), 3),
                             "p99_ms": round(percentile(lat, 0.99), 3),
                             "max_ms": round(max(lat) if lat else 0, 3)},
            "result": job.get("result")}


def main():
    what, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Client(port, key)
    lead_id = c.call("GET", "/v1/leads?limit=1")["data"][0]["id"]
    alone = "--alone" in sys.argv
    if what == "rescore":
        replay = "--replay" in sys.argv
        model = c.call("GET", "/v1/scoring-model")["model"]
        version = len(c.call("GET", "/v1/scoring-model/versions")["data"]) + 1
        # Every fit rule's points change (all leads move); with --replay a new
        # engagement rule needs every lead's stored events.
        for r in model["fit"]:
            r["points"] = r["points"] + (1 if version % 2 else -1)
        if replay:
            model["engagement"].append({"id": "any-view-%d" % version, "event": "page_view",
                                        "points": 2, "half_life_days": 10})
        version = c.call("PUT", "/v1/scoring-model", model)["version"]
        res = run_job(port, key, lead_id,
                      lambda c: c.call("POST", "/v1/scoring-model/%d:activate" % version), alone)
    else:
        body = {"label": {"field": "status",
                          "positive": ["converted", "qualified", "contacted"],
                          "negative": ["new", "unqualified", "lost"]}}
        res = run_job(port, key, lead_id, lambda c: c.call("POST", "/v1/models:train", body), alone)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
