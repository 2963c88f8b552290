# The change feed over WebSocket (GET /v1/stream), with a client no one
# here wrote (Debian's python3-websockets): subscribing to all leads or to
# one lead, changes arriving in seq order with their scores, resuming after
# a disconnect (and after a kill -9: the window is journaled) without loss
# or duplicates, a gap message when resume_from is older than the window,
# bad ops answered with an error message, the handshake authenticated, and
# a client that stops reading dropped without slowing writers.
import asyncio
import json
import sys
import unittest

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-websockets
import websockets  # noqa: E402

import harness  # noqa: E402

TIMEOUT = 10


def ws_url(srv):
    return "ws://127.0.0.1:%d/v1/stream" % srv.port


async def recv_json(ws, timeout=TIMEOUT):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws, pred, limit=1000):
    """Messages up to and including the first one pred() accepts."""
    out = []
    for _ in range(limit):
        m = await recv_json(ws)
        out.append(m)
        if pred(m):
            return out
    raise AssertionError("no matching message in %d" % limit)


class StreamTest(harness.ServerTestCase):
    def setUp(self):
        self.srv = harness.start_server(self, extra_args=("--set", "stream.replay_window=50"))
        self.org, self.key = self.srv.org_with_key("admin")

    def connect(self, key=None, **kw):
        headers = {"Authorization": "Bearer " + (key or self.key)}
        return websockets.connect(ws_url(self.srv), extra_headers=headers, open_timeout=TIMEOUT,
                                  **kw)

    def event(self, lead_id, kind="page_view"):
        res = self.srv.request("POST", "/v1/leads/%s/events" % lead_id, {"type": kind},
                               key=self.key)
        return self.assertStatus(res, 201)

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 60))

    def test_changes_arrive_in_order_with_scores(self):
        async def go():
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads"}))
                ack = await recv_json(ws)
                self.assertEqual(ack["type"], "subscribed")
                lead = self.srv.create_lead(self.key, {"email": "a@x.io", "title": "VP Sales"})
                answer = self.event(lead["id"], "demo_request")
                self.srv.request("PATCH", "/v1/leads/" + lead["id"], {"company": "Acme"},
                                 key=self.key)
                self.srv.request("DELETE", "/v1/leads/" + lead["id"], key=self.key)
                msgs = await recv_until(ws, lambda m: m["type"] == "lead.deleted")
                self.assertEqual([m["type"] for m in msgs],
                                 ["lead.created", "lead.updated", "lead.updated", "lead.deleted"])
                seqs = [m["seq"] for m in msgs]
                self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 4)))
                self.assertTrue(all(m["lead_id"] == lead["id"] for m in msgs))
                self.assertEqual(msgs[1]["cause"], "event")
                self.assertEqual(msgs[1]["detail"], "demo_request")
                # the message carries the score the write was answered with
                self.assertEqual(msgs[1]["score"]["total"], answer["score"]["total"])
                self.assertEqual(msgs[1]["previous_total"], msgs[0]["score"]["total"])
                self.assertEqual(msgs[2]["cause"], "field_change")
                self.assertEqual(msgs[2]["detail"], "company")
        self.run_async(go())

    def test_one_lead_topic_and_unsubscribe(self):
        a = self.srv.create_lead(self.key, {"email": "a@x.io"})
        b = self.srv.create_lead(self.key, {"email": "b@x.io"})

        async def go():
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "lead:" + b["id"]}))
                await recv_json(ws)
                for _ in range(3):
                    self.event(a["id"])
                self.event(b["id"])
                m = await recv_json(ws)
                self.assertEqual((m["type"], m["lead_id"]), ("lead.updated", b["id"]))
                await ws.send(json.dumps({"op": "unsubscribe", "topic": "lead:" + b["id"]}))
                self.assertEqual((await recv_json(ws))["type"], "unsubscribed")
                self.event(b["id"])
                await ws.send(json.dumps({"op": "subscribe", "topic": "lead:" + a["id"]}))
                self.assertEqual((await recv_json(ws))["type"], "subscribed")
                self.event(a["id"])
                m = await recv_json(ws)
                self.assertEqual(m["lead_id"], a["id"])  # nothing of b's after unsubscribing
        self.run_async(go())

    def test_resume_after_disconnect_and_kill_9_without_loss_or_duplicates(self):
        lead = self.srv.create_lead(self.key, {"email": "r@x.io"})

        async def first():
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads"}))
                await recv_json(ws)
                self.event(lead["id"])
                self.event(lead["id"])
                return [(await recv_json(ws))["seq"] for _ in range(2)]

        seen = self.run_async(first())
        for _ in range(5):  # written while no one listens
            self.event(lead["id"])
        self.srv.kill9()
        self.srv.start()
        self.event(lead["id"])

        async def resume(after):
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads",
                                          "resume_from": after}))
                got = []
                while len(got) < 6:
                    m = await recv_json(ws)
                    if m["type"] == "lead.updated":
                        got.append(m["seq"])
                self.event(lead["id"])  # live again after the replay
                m = await recv_until(ws, lambda m: m["type"] == "lead.updated")
                return got + [m[-1]["seq"]]

        got = self.run_async(resume(seen[-1]))
        self.assertEqual(got, list(range(seen[-1] + 1, seen[-1] + 8)))

    def test_gap_when_resume_from_is_older_than_the_window(self):
        lead = self.srv.create_lead(self.key, {"email": "g@x.io"})
        for _ in range(60):  # the window is 50 messages
            self.event(lead["id"])

        async def go():
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads", "resume_from": 0}))
                gap = await recv_json(ws)
                self.assertEqual(gap["type"], "gap")
                self.assertEqual(gap["from"], 1)
                first = await recv_json(ws)
                self.assertEqual(first["seq"], gap["to"] + 1)
                head = 61  # 1 create + 60 events
                self.assertEqual(gap["to"], head - 50)
        self.run_async(go())

    def test_bad_ops_are_answered_with_errors(self):
        async def go():
            async with self.connect() as ws:
                for bad, words in [("not json", "JSON"),
                                   ({"op": "subscribe", "topic": "everything"}, "unknown topic"),
                                   ({"op": "subscribe", "topic": "lead:xyz"}, "lead id"),
                                   ({"op": "watch", "topic": "leads"}, "op"),
                                   ({"op": "subscribe", "topic": "threshold"}, "'score'"),
                                   ({"op": "subscribe", "topic": "leads", "score": 5},
                                    "belong to topic 'threshold'"),
                                   ({"op": "subscribe", "topic": "threshold", "score": 50,
                                     "hysteresis": -1}, "hysteresis"),
                                   ({"topic": "leads"}, "'op' is required")]:
                    await ws.send(bad if isinstance(bad, str) else json.dumps(bad))
                    m = await recv_json(ws)
                    self.assertEqual(m["type"], "error", bad)
                    self.assertIn(words, m["detail"])
        self.run_async(go())

    def test_handshake_is_authenticated(self):
        async def go(key):
            async with self.connect(key=key):
                pass
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
            self.run_async(go("not-a-key"))
        self.assertEqual(e.exception.status_code, 401)
        res = self.srv.request("GET", "/v1/stream", key=self.key)
        self.assertProblem(res, 426, "upgrade_required")

    def test_browser_token_in_the_query(self):
        res = self.srv.request("POST", "/v1/stream/tokens", {"ttl_seconds": 60}, key=self.key)
        grant = self.assertStatus(res, 201)
        self.assertEqual(grant["ttl_seconds"], 60)
        self.assertEqual(grant["url"], "/v1/stream?token=" + grant["token"])
        lead = self.srv.create_lead(self.key, {"email": "tok@x.io"})

        async def go(token):
            url = ws_url(self.srv) + "?token=" + token
            async with websockets.connect(url, open_timeout=TIMEOUT) as ws:  # no header
                await ws.send(json.dumps({"op": "subscribe", "topic": "lead:" + lead["id"]}))
                self.assertEqual((await recv_json(ws))["type"], "subscribed")
                self.event(lead["id"])
                return await recv_json(ws)
        m = self.run_async(go(grant["token"]))
        self.assertEqual((m["type"], m["lead_id"]), ("lead.updated", lead["id"]))

        tampered = grant["token"][:-1] + ("0" if grant["token"][-1] != "0" else "1")
        for token in (tampered, "garbage"):
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                self.run_async(go(token))
            self.assertEqual(e.exception.status_code, 401)
        for body in ({"ttl_seconds": 5}, {"ttl_seconds": 99999}, {"ttl": 60}):
            res = self.srv.request("POST", "/v1/stream/tokens", body, key=self.key)
            self.assertEqual(res[0], 400, body)
        # revoking the key revokes its tokens
        res = self.srv.request("GET", "/v1/orgs/%s/keys" % self.org, key=self.srv.root_key)
        keys = self.assertStatus(res, 200)["data"]
        res = self.srv.request("DELETE", "/v1/orgs/%s/keys/%s" % (self.org, keys[0]["id"]),
                               key=self.srv.root_key)
        self.assertStatus(res, 204)
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
            self.run_async(go(grant["token"]))
        self.assertEqual(e.exception.status_code, 401)

    def test_jobs_topic_reports_a_rescore(self):
        for i in range(3):
            self.srv.create_lead(self.key, {"email": "j%d@x.io" % i})
        res = self.srv.request("GET", "/v1/scoring-model", key=self.key)
        model = self.assertStatus(res, 200)["model"]
        model["grades"] = {"A": 81, "B": 61, "C": 31}

        async def go():
            async with self.connect() as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "jobs"}))
                self.assertEqual((await recv_json(ws))["type"], "subscribed")
                res = self.srv.request("PUT", "/v1/scoring-model", model, key=self.key)
                version = self.assertStatus(res, 201)["version"]
                res = self.srv.request("POST", "/v1/scoring-model/%d:activate" % version,
                                       key=self.key)
                job = self.assertStatus(res, 202)
                msgs = await recv_until(ws, lambda m: m.get("job", {}).get("state") == "done")
                return job, msgs
        job, msgs = self.run_async(go())
        for m in msgs:  # lead changes are not on this topic: only the job's progress
            self.assertEqual(m["type"], "job.progress")
            self.assertEqual(m["job_id"], job["id"])
        self.assertEqual(msgs[-1]["job"]["total"], 3)
        self.assertEqual([m["seq"] for m in msgs], sorted(m["seq"] for m in msgs))

    def test_a_resume_longer_than_the_queue_bound_is_replayed_whole(self):
        srv = harness.start_server(self, extra_args=("--set", "stream.max_queue=20",
                                                     "--durability", "async"))
        org, key = srv.org_with_key("admin")
        lead = srv.create_lead(key, {"email": "r@x.io"})
        batch = [{"lead_id": lead["id"], "type": "page_view"}] * 300
        res = srv.request("POST", "/v1/events:batch", batch, key=key)
        self.assertIn(res[0], (200, 201, 207), res[2])

        async def go():
            url = "ws://127.0.0.1:%d/v1/stream" % srv.port
            async with websockets.connect(url, extra_headers={
                    "Authorization": "Bearer " + key}) as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads",
                                          "resume_from": 0}))
                return await recv_until(ws, lambda m: m.get("type") == "subscribed", 400)
        msgs = self.run_async(go())
        self.assertEqual([m["seq"] for m in msgs[:-1]], list(range(1, 302)))  # create + 300
        self.assertEqual(msgs[-1]["seq"], 301)

    def test_a_client_that_stops_reading_is_dropped_and_writers_go_on(self):
        srv = harness.start_server(self, extra_args=("--set", "stream.max_queue=20",
                                                     "--durability", "async"))
        org, key = srv.org_with_key("admin")
        lead = srv.create_lead(key, {"email": "s@x.io", "company": "x" * 200})
        batch = [{"lead_id": lead["id"], "type": "page_view"}] * 1000

        async def go():
            url = "ws://127.0.0.1:%d/v1/stream" % srv.port
            async with websockets.connect(url, extra_headers={"Authorization": "Bearer " + key},
                                          max_queue=1) as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "leads"}))
                await recv_json(ws)
                ws.transport.pause_reading()  # from now on a client that does not read
                # Until the kernel's socket buffers (several MB on loopback)
                # are full the server's queue stays empty; then it grows.
                for i in range(200):
                    res = srv.request("POST", "/v1/events:batch", batch, key=key)
                    self.assertEqual(res[0], 200, res[2])  # writers never wait for it
                    if "slow consumer" in srv.stderr_text():
                        break
                self.assertIn("slow consumer: 20 messages unsent", srv.stderr_text())
                # the server dropped the connection
                ws.transport.resume_reading()
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), TIMEOUT)
        self.run_async(go())

if __name__ == "__main__":
    unittest.main()
