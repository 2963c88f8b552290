# Webhooks against a receiver this test runs on loopback: CRUD and bad
# input; every delivery of every acknowledged change eventually received
# with a valid signature while the receiver fails (500), times out and
# answers 429 in turn, across a kill -9 of the server mid-way; a 4xx parks
# a delivery at once and a replay sends it again; threshold crossings with
# hysteresis delivered once each, the same alerts a WebSocket threshold
# subscription gets.
import asyncio
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import unittest

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-websockets
import websockets  # noqa: E402

import harness  # noqa: E402

FAST = ("--set", "webhooks.retry_base=50ms", "--set", "webhooks.retry_max=400ms",
        "--set", "webhooks.timeout=300ms", "--set", "webhooks.concurrency=8")


class Receiver:
    """A loopback HTTP server recording each POST. `behave(attempt, body)`
    returns (status, headers, delay seconds) for one request."""

    def __init__(self, behave):
        self.behave = behave
        self.lock = threading.Lock()
        self.requests = []  # (headers dict, body bytes, status answered)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, delay = receiver.behave(headers, body)
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.requests.append((headers, body, status))
                try:
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the server gave up waiting (a timeout on purpose)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook?x=1" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def delivered(self, secret):
        """Bodies answered 2xx, by delivery id, each checked for its signature."""
        out = {}
        with self.lock:
            reqs = list(self.requests)
        for headers, body, status in reqs:
            if not 200 <= status < 300:
                continue
            ts = headers["hotlead-timestamp"]
            mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256)
            assert headers["hotlead-signature"] == "v1=" + mac.hexdigest(), headers
            doc = json.loads(body)
            assert doc["id"] == headers["hotlead-delivery-id"]
            out[doc["id"]] = doc
        return out


class WebhookTest(harness.ServerTestCase):
    def setUp(self):
        self.srv = harness.start_server(self, extra_args=FAST)
        self.org, self.key = self.srv.org_with_key("admin")

    def receiver(self, behave):
        r = Receiver(behave)
        self.addCleanup(r.close)
        return r

    def create_hook(self, body, key=None):
        res = self.srv.request("POST", "/v1/webhooks", body, key=key or self.key)
        return self.assertStatus(res, 201)

    def event(self, lead_id, kind="page_view"):
        res = self.srv.request("POST", "/v1/leads/%s/events" % lead_id, {"type": kind},
                               key=self.key)
        return self.assertStatus(res, 201)

    def deliveries(self, hook_id, query=""):
        res = self.srv.request("GET", "/v1/webhooks/%s/deliveries%s" % (hook_id, query),
                               key=self.key)
        return self.assertStatus(res, 200)

    def test_crud_and_bad_input(self):
        hook = self.create_hook({"url": "http://127.0.0.1:9/x", "events": ["lead.created"]})
        self.assertTrue(hook["secret"].startswith("whsec_"))
        self.assertEqual(hook["events"], ["lead.created"])
        res = self.srv.request("GET", "/v1/webhooks", key=self.key)
        listed = self.assertStatus(res, 200)["webhooks"]
        self.assertEqual([h["id"] for h in listed], [hook["id"]])
        self.assertNotIn("secret", listed[0])
        res = self.srv.request("PATCH", "/v1/webhooks/" + hook["id"],
                               {"events": ["lead.threshold_crossed"],
                                "threshold": {"score": 70}}, key=self.key)
        patched = self.assertStatus(res, 200)
        self.assertEqual(patched["threshold"], {"score": 70, "hysteresis": 5})
        self.assertNotIn("secret", patched)
        res = self.srv.request("GET", "/v1/webhooks/" + hook["id"], key=self.key)
        self.assertEqual(self.assertStatus(res, 200)["events"], ["lead.threshold_crossed"])

        bad = [({"events": ["lead.created"]}, "url"),
               ({"url": "https://example.com/x", "events": ["lead.created"]}, "https"),
               ({"url": "ftp://x/y", "events": ["lead.created"]}, "http://"),
               ({"url": "http://127.0.0.1:9/x", "events": ["lead.exploded"]}, "lead.exploded"),
               ({"url": "http://127.0.0.1:9/x", "events": []}, "at least one"),
               ({"url": "http://127.0.0.1:9/x", "events": ["lead.threshold_crossed"]}, "threshold"),
               ({"url": "http://127.0.0.1:9/x", "events": ["lead.created"], "secret": "short"},
                "secret"),
               ({"url": "http://127.0.0.1:9/x", "events": ["lead.created"], "color": 1}, "color")]
        for body, word in bad:
            res = self.srv.request("POST", "/v1/webhooks", body, key=self.key)
            p = self.assertProblem(res, 400, "unknown_field" if "color" in body
                                   else "invalid_field")
            self.assertIn(word, p["detail"], body)
        res = self.srv.request("GET", "/v1/webhooks", key=self.key)
        self.assertEqual(len(self.assertStatus(res, 200)["webhooks"]), 1)  # nothing was added

        viewer_key = self.srv.make_key(self.org, "viewer")
        res = self.srv.request("GET", "/v1/webhooks", key=viewer_key)
        self.assertProblem(res, 403, "forbidden")
        _, other = self.srv.org_with_key("admin")
        res = self.srv.request("GET", "/v1/webhooks/" + hook["id"], key=other)
        self.assertProblem(res, 404, "not_found")
        res = self.srv.request("GET", "/v1/webhooks/nothex", key=self.key)
        self.assertProblem(res, 400, "invalid_id")
        res = self.srv.request("PUT", "/v1/webhooks/" + hook["id"], {}, key=self.key)
        self.assertProblem(res, 405, "method_not_allowed")
        res = self.srv.request("GET", "/v1/webhooks/%s/deliveries?limit=0" % hook["id"],
                               key=self.key)
        self.assertProblem(res, 400, "invalid_query")

        res = self.srv.request("DELETE", "/v1/webhooks/" + hook["id"], key=self.key)
        self.assertStatus(res, 204)
        res = self.srv.request("GET", "/v1/webhooks/" + hook["id"], key=self.key)
        self.assertProblem(res, 404, "not_found")
        # survives a restart: what was deleted stays deleted, a new one stays
        kept = self.create_hook({"url": "http://127.0.0.1:9/y", "events": ["lead.deleted"]})
        self.srv.kill9()
        self.srv.start()
        res = self.srv.request("GET", "/v1/webhooks", key=self.key)
        self.assertEqual([h["id"] for h in self.assertStatus(res, 200)["webhooks"]],
                         [kept["id"]])

    def test_every_delivery_arrives_through_failures_and_kill9(self):
        # Per delivery: 500, then no answer in time, then 429 (Retry-After
        # 1 s), then 200; a delivery seen again after that gets 200 too.
        def behave(headers, body):
            attempt = int(headers["hotlead-attempt"])
            if attempt == 1:
                return 500, {}, 0
            if attempt == 2:
                return 200, {}, 0.6  # answered after the 300 ms timeout: a failure
            if attempt == 3:
                return 429, {"Retry-After": "1"}, 0
            return 200, {}, 0
        rcv = self.receiver(behave)
        hook = self.create_hook({"url": rcv.url, "events": ["lead.created", "lead.updated"]})
        acked = {}  # lead id -> acknowledged changes (its create + events)
        leads = [self.srv.create_lead(self.key, {"email": "w%d@x.io" % i})["id"]
                 for i in range(3)]
        for lead in leads:
            acked[lead] = 1
        for i in range(6):
            self.event(leads[i % 3])
            acked[leads[i % 3]] += 1
        time.sleep(0.3)  # some attempts are in flight, none is delivered yet
        self.srv.kill9()
        self.srv.start()
        for i in range(3):
            self.event(leads[i])
            acked[leads[i]] += 1

        def all_arrived():
            got = rcv.delivered(hook["secret"])
            per_lead = {}
            for doc in got.values():
                lead = doc["data"]["lead_id"]
                per_lead[lead] = per_lead.get(lead, 0) + 1
            return got if per_lead == acked else None
        got = harness.wait_for(all_arrived, 40, "every acknowledged change delivered")
        seqs = sorted(d["data"]["seq"] for d in got.values())
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))  # one delivery per feed message
        # a delivery waited for its 429's Retry-After before the next attempt
        with rcv.lock:
            by_id = {}
            for h, _, status in rcv.requests:
                by_id.setdefault(h["hotlead-delivery-id"], []).append((status, h))
        statuses = [s for s, _ in next(iter(by_id.values()))]
        self.assertIn(500, statuses)
        self.assertIn(429, statuses)
        # the deliveries API shows the attempts and outcome
        page = harness.wait_for(lambda: (lambda p: p if all(d["state"] == "delivered"
                                                         for d in p["deliveries"]) else None)(
            self.deliveries(hook["id"])), 10, "records settled")
        self.assertEqual(len(page["deliveries"]), len(got))
        d = page["deliveries"][-1]  # the oldest: created before the kill
        self.assertGreaterEqual(d["attempts"], 1)
        self.assertEqual(d["recent_attempts"][-1]["status"], 200)
        self.assertEqual(d["body"]["id"], d["id"])

    def test_4xx_parks_and_replay_resends(self):
        mode = {"status": 410}

        def behave(headers, body):
            return mode["status"], {}, 0
        rcv = self.receiver(behave)
        hook = self.create_hook({"url": rcv.url, "events": ["lead.created"]})
        self.srv.create_lead(self.key, {"email": "p@x.io"})
        page = harness.wait_for(lambda: (lambda p: p if p["deliveries"] else None)(
            self.deliveries(hook["id"], "?state=parked")), 10, "a parked delivery")
        parked = page["deliveries"][0]
        self.assertEqual(parked["attempts"], 1)  # a 410 is not retried
        self.assertIn("410", parked["recent_attempts"][0]["error"])
        mode["status"] = 204
        res = self.srv.request("POST", "/v1/webhooks/%s/deliveries:replay" % hook["id"], None,
                               key=self.key)
        self.assertEqual(self.assertStatus(res, 200), {"replayed": 1, "ids": [parked["id"]]})
        got = harness.wait_for(lambda: rcv.delivered(hook["secret"]), 10, "the replayed delivery")
        self.assertEqual(list(got), [parked["id"]])
        res = self.srv.request("POST", "/v1/webhooks/%s/deliveries:replay" % hook["id"],
                               {"ids": ["zz"]}, key=self.key)
        self.assertProblem(res, 400, "invalid_field")

    def test_threshold_alerts_once_per_crossing_like_the_stream(self):
        rcv = self.receiver(lambda h, b: (200, {}, 0))
        lead = self.srv.create_lead(self.key, {"email": "t@x.io"})
        base = lead["score"]["total"]
        rule = {"score": base + 25, "hysteresis": 5}
        hook = self.create_hook({"url": rcv.url, "events": ["lead.threshold_crossed"],
                                 "threshold": rule})
        kinds = ["demo_request", "unsubscribe", "demo_request", "page_view", "unsubscribe",
                 "page_view", "unsubscribe", "demo_request"]

        async def go():
            url = "ws://127.0.0.1:%d/v1/stream" % self.srv.port
            async with websockets.connect(url, extra_headers={
                    "Authorization": "Bearer " + self.key}) as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "threshold", **rule}))
                ack = json.loads(await ws.recv())
                self.assertEqual(ack["type"], "subscribed")
                totals = [self.event(lead["id"], k)["score"]["total"] for k in kinds]
                # the documented rule over the totals the writes were answered with
                expected, hot = [], False
                for t in totals:
                    if not hot and t >= rule["score"]:
                        hot = True
                        expected.append("up")
                    elif hot and t < rule["score"] - rule["hysteresis"]:
                        hot = False
                        expected.append("down")
                self.assertIn("up", expected)
                self.assertIn("down", expected)
                alerts = []
                for _ in expected:
                    alerts.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                return expected, alerts
        expected, alerts = asyncio.run(asyncio.wait_for(go(), 60))
        self.assertEqual([a["direction"] for a in alerts], expected)
        for a in alerts:
            self.assertEqual(a["type"], "lead.threshold_crossed")
            self.assertEqual(a["change"], "lead.updated")
            self.assertEqual(a["lead_id"], lead["id"])
        got = harness.wait_for(lambda: (lambda g: g if len(g) >= len(expected) else None)(
            rcv.delivered(hook["secret"])), 10, "threshold deliveries")
        time.sleep(0.3)  # nothing more comes
        got = rcv.delivered(hook["secret"])
        hooked = sorted(got.values(), key=lambda d: d["data"]["seq"])
        self.assertEqual([(d["data"]["seq"], d["data"]["direction"]) for d in hooked],
                         [(a["seq"], a["direction"]) for a in alerts])
        self.assertTrue(all(d["type"] == "lead.threshold_crossed" for d in hooked))


if __name__ == "__main__":
    unittest.main()
