# Score moves with no change to the lead, end to end: a hot lead whose
# engagement decays below a threshold's lower edge is sent as a lead.scored
# message (cause "decay") within a sweep, with no write at all, and both a
# WebSocket threshold view and a threshold webhook alert "down" once; a new
# model version that lifts a lead across a watched threshold alerts "up"
# (cause "model_change"), while re-scored leads that cross nothing send no
# message. Real server, real RocksDB, Debian's python3-websockets.
import asyncio
import json
import sys
import time
import unittest

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-websockets
import websockets  # noqa: E402

import harness  # noqa: E402
from test_stream import recv_json  # noqa: E402
from test_webhooks import Receiver  # noqa: E402

FAST = ("--set", "storage.record_interval=300ms", "--set", "webhooks.retry_base=50ms",
        "--set", "webhooks.retry_max=400ms")

# Engagement that halves every 3 s: 100 points stay above 50 for 3 s (a
# loaded CI machine may take a while to answer) and fall below 45 in ~3.5 s.
DECAYING = {
    "fit": [],
    "engagement": [{"id": "demo", "event": "demo_request", "points": 100,
                    "half_life_days": 3 / 86400}],
    "grades": {"A": 80, "B": 50, "C": 20},
    "bounds": {"min": 0, "max": 100},
}

# No decay; v2 doubles what a CEO title is worth and gives VPs 10.
V1 = {
    "fit": [{"id": "ceo", "field": "title", "op": "equals", "value": "CEO", "points": 40}],
    "engagement": [{"id": "view", "event": "page_view", "points": 1}],
    "grades": {"A": 80, "B": 50, "C": 20},
    "bounds": {"min": 0, "max": 100},
}
V2 = dict(V1, fit=[
    {"id": "ceo", "field": "title", "op": "equals", "value": "CEO", "points": 80},
    {"id": "vp", "field": "title", "op": "equals", "value": "VP", "points": 10}])

RULE = {"score": 50, "hysteresis": 5}


class ScoreMovesTest(harness.ServerTestCase):
    def setUp(self):
        self.srv = harness.start_server(self, extra_args=FAST)
        self.org, self.key = self.srv.org_with_key("admin")

    def req(self, method, path, body=None):
        return self.srv.request(method, path, body, key=self.key)

    def use_model(self, model):
        version = self.assertStatus(self.req("PUT", "/v1/scoring-model", model), 201)["version"]
        status, _, job = self.req("POST", "/v1/scoring-model/%d:activate" % version)
        self.assertEqual(status, 202, job)
        job = self.srv.wait_job(self.key, job["id"])
        self.assertEqual(job["state"], "done", job)
        return version

    def receiver(self):
        r = Receiver(lambda h, b: (200, {}, 0))
        self.addCleanup(r.close)
        return r

    def ws(self):
        return websockets.connect("ws://127.0.0.1:%d/v1/stream" % self.srv.port,
                                  extra_headers={"Authorization": "Bearer " + self.key})

    def test_decay_alone_crosses_down_once_on_stream_and_webhook(self):
        self.use_model(DECAYING)
        rcv = self.receiver()
        hook = self.assertStatus(self.req("POST", "/v1/webhooks", {
            "url": rcv.url, "events": ["lead.threshold_crossed", "lead.scored"],
            "threshold": RULE}), 201)
        lead = self.assertStatus(self.req("POST", "/v1/leads", {"email": "d@x.io"}), 201)

        async def go():
            async with self.ws() as ws:
                for topic in ({"topic": "threshold", **RULE}, {"topic": "lead:" + lead["id"]}):
                    await ws.send(json.dumps({"op": "subscribe", **topic}))
                    self.assertEqual((await recv_json(ws))["type"], "subscribed")
                ev = self.assertStatus(self.req("POST", "/v1/leads/%s/events" % lead["id"],
                                                {"type": "demo_request"}), 201)
                self.assertGreaterEqual(ev["score"]["total"], 50)
                got = [await recv_json(ws), await recv_json(ws)]
                self.assertEqual(sorted(m["type"] for m in got),
                                 ["lead.threshold_crossed", "lead.updated"])
                written = time.monotonic()
                # No write from here on: decay alone moves the score.
                scored = await recv_json(ws, 20)
                alert = await recv_json(ws, 5)
                waited = time.monotonic() - written
                # The score keeps falling, but it is below every edge now: nothing more.
                with self.assertRaises(asyncio.TimeoutError):
                    await recv_json(ws, 1.5)
                return got, scored, alert, waited

        got, scored, alert, waited = asyncio.run(asyncio.wait_for(go(), 60))
        up = next(m for m in got if m["type"] == "lead.threshold_crossed")
        self.assertEqual((up["direction"], up["change"]), ("up", "lead.updated"))
        self.assertEqual(scored["type"], "lead.scored", scored)
        self.assertEqual(scored["cause"], "decay")
        self.assertEqual(scored["lead_id"], lead["id"])
        self.assertGreaterEqual(scored["previous_total"], 45)
        self.assertLess(scored["score"]["total"], 45)
        self.assertEqual(alert["type"], "lead.threshold_crossed")
        self.assertEqual((alert["direction"], alert["change"]), ("down", "lead.scored"))
        self.assertEqual(alert["seq"], scored["seq"])
        self.assertLess(waited, 10, "the decay crossing came %.1f s after the write" % waited)
        # The webhook saw the same two crossings and the lead.scored message.
        def hooked():
            d = rcv.delivered(hook["secret"])
            return d if len(d) >= 3 else None
        docs = sorted(harness.wait_for(hooked, 10, "webhook deliveries").values(),
                      key=lambda d: (d["data"]["seq"], d["type"]))
        self.assertEqual([(d["type"], d["data"].get("direction")) for d in docs],
                         [("lead.threshold_crossed", "up"), ("lead.scored", None),
                          ("lead.threshold_crossed", "down")])
        self.assertEqual(docs[2]["data"]["seq"], scored["seq"])
        # The move is in the lead's score history, and survives a restart.
        hist = self.assertStatus(self.req("GET", "/v1/leads/%s/score/history" % lead["id"]),
                                 200)
        self.assertIn("decay", [h["cause"] for h in hist["data"]])
        self.srv.kill9()
        self.srv.start()
        time.sleep(1)  # sweeps run: the lead is below every edge, nothing is sent again
        self.assertEqual(len(rcv.delivered(hook["secret"])), 3)

    def test_new_model_version_alerts_only_leads_it_moves_across(self):
        self.use_model(V1)
        ceo = self.assertStatus(self.req("POST", "/v1/leads", {"email": "c@x.io",
                                                              "title": "CEO"}), 201)
        vp = self.assertStatus(self.req("POST", "/v1/leads", {"email": "v@x.io",
                                                             "title": "VP"}), 201)
        self.assertStatus(self.req("POST", "/v1/leads", {"email": "n@x.io"}), 201)
        self.assertEqual(ceo["score"]["total"], 40)

        async def go():
            async with self.ws() as ws:
                for topic in ({"topic": "threshold", **RULE}, {"topic": "leads"}):
                    await ws.send(json.dumps({"op": "subscribe", **topic}))
                    self.assertEqual((await recv_json(ws))["type"], "subscribed")
                self.use_model(V2)
                msgs = [await recv_json(ws), await recv_json(ws)]
                with self.assertRaises(asyncio.TimeoutError):
                    msgs.append(await recv_json(ws, 1.5))
                return msgs

        scored, alert = asyncio.run(asyncio.wait_for(go(), 90))
        self.assertEqual((scored["type"], scored["cause"], scored["lead_id"]),
                         ("lead.scored", "model_change", ceo["id"]), scored)
        self.assertEqual((scored["previous_total"], scored["score"]["total"]), (40, 80))
        self.assertEqual((alert["type"], alert["direction"], alert["seq"]),
                         ("lead.threshold_crossed", "up", scored["seq"]))
        # The VP moved 0 -> 10: re-scored, but across nothing watched, so not sent.
        got = self.assertStatus(self.req("GET", "/v1/leads/" + vp["id"]), 200)
        self.assertEqual(got["score"]["total"], 10)


if __name__ == "__main__":
    unittest.main()
