# The HTTP edge end to end: keep-alive (many requests on one connection),
# pipelining (3 requests in one write, 3 answers in order), /healthz,
# /readyz, /metrics (request, lead and journal counters), X-Request-Id
# echo, a client sending headers slower than server.header_timeout is
# disconnected (and a slow body is 400), the connection limit answers 503
# overloaded, a client that stops reading its answers is dropped without
# slowing others, and a graceful shutdown (SIGTERM with requests in flight)
# answers them, exits 0 and logs "stopped".
import json
import os
import signal
import socket
import threading
import time
import unittest

import harness
from harness import metric_values, raw_request_bytes, read_raw_response


class EdgeTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        srv = cls.srv = harness.start_server(cls)
        cls.org, cls.key = srv.org_with_key("admin")

    def auth(self, extra=None):
        h = {"Authorization": "Bearer " + self.key}
        h.update(extra or {})
        return h

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        c = self.srv.connection()
        self.addCleanup(c.close)

        def call(method, path, body=None):
            headers = self.auth({"Content-Type": "application/json"} if body else None)
            c.request(method, path, body=json.dumps(body) if body is not None else None,
                      headers=headers)
            r = c.getresponse()
            data = r.read()
            self.assertFalse(r.will_close, "the server closed a keep-alive connection")
            return r.status, json.loads(data) if data else None

        c.request("GET", "/metrics")
        r = c.getresponse()
        before = metric_values(r.read().decode(), "hotlead_connections_total")[""]
        sock = c.sock
        for i in range(100):
            status, lead = call("POST", "/v1/leads", {"first_name": "ka%d" % i})
            self.assertEqual(status, 201)
            self.assertEqual(call("GET", "/v1/leads/" + lead["id"])[0], 200)
            self.assertEqual(call("POST", "/v1/leads/%s/events" % lead["id"],
                                  {"type": "page_view"})[0], 201)
            self.assertEqual(call("GET", "/healthz")[0], 200)
        self.assertIs(c.sock, sock, "http.client had to reconnect")
        c.request("GET", "/metrics")
        r = c.getresponse()
        after = metric_values(r.read().decode(), "hotlead_connections_total")[""]
        self.assertEqual(after, before, "the requests used more than one connection")

    def test_a_request_arriving_in_pieces_with_a_chunked_body_is_served(self):
        # The edge's read loop: a head split mid-line, a chunked body whose
        # chunks come in separate packets, then a second request on the
        # same connection.
        body = json.dumps({"email": "chunks@example.com", "company": "Chunky & Sons"}).encode()
        head = ("POST /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                % self.key).encode()
        pieces = [head[:7], head[7:40], head[40:]]
        for part in (body[:10], body[10:25], body[25:]):
            pieces.append(b"%x\r\n%s\r\n" % (len(part), part))
        pieces.append(b"0\r\n\r\n")
        s = self.srv.raw_socket()
        self.addCleanup(s.close)
        for p in pieces:
            s.sendall(p)
            time.sleep(0.02)
        reader = s.makefile("rb")
        res = read_raw_response(reader)
        self.assertEqual(res.status, 201, res.body)
        lead = res.json()
        self.assertEqual((lead["email"], lead["company"]), ("chunks@example.com", "Chunky & Sons"))
        s.sendall(raw_request_bytes("GET", "/v1/leads/" + lead["id"], headers=self.auth({})))
        again = read_raw_response(reader)
        self.assertEqual(again.status, 200)
        self.assertEqual(again.json()["company"], "Chunky & Sons")

    def test_pipelined_requests_are_answered_in_order(self):
        body = json.dumps({"first_name": "piped"}).encode()
        data = (raw_request_bytes("GET", "/healthz", headers={"X-Request-Id": "r1"}) +
                raw_request_bytes("POST", "/v1/leads", body,
                                  self.auth({"Content-Type": "application/json",
                                             "X-Request-Id": "r2"})) +
                raw_request_bytes("GET", "/v1/leads/00000000000000aa",
                                  headers=self.auth({"X-Request-Id": "r3"})))
        s = self.srv.raw_socket()
        self.addCleanup(s.close)
        s.sendall(data)
        reader = s.makefile("rb")
        answers = [read_raw_response(reader) for _ in range(3)]
        self.assertEqual([a.status for a in answers], [200, 201, 404])
        self.assertEqual([a.headers.get("x-request-id") for a in answers], ["r1", "r2", "r3"])
        self.assertEqual(answers[0].json(), {"status": "ok"})
        lead = answers[1].json()
        self.assertEqual(lead["first_name"], "piped")
        self.assertEqual(answers[2].json()["code"], "not_found")
        # The connection is still usable afterwards.
        s.sendall(raw_request_bytes("GET", "/v1/leads/" + lead["id"], headers=self.auth()))
        again = read_raw_response(reader)
        self.assertEqual(again.status, 200)
        self.assertEqual(again.json(), lead)

    def test_healthz_and_readyz_answer_200_without_a_key(self):
        status, headers, body = self.srv.request("GET", "/healthz")
        self.assertEqual((status, body), (200, {"status": "ok"}))
        status, headers, body = self.srv.request("GET", "/readyz")
        self.assertEqual((status, body), (200, {"status": "ready"}))

    def test_metrics_expose_requests_leads_and_journal_commits(self):
        lead = self.srv.create_lead(self.key, {"first_name": "metric"})
        self.srv.request("GET", "/healthz")
        self.srv.request("GET", "/v1/leads/0000000000000001", key=self.key)
        status, headers, text = self.srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/plain"))
        self.assertIn("hotlead_http_requests_total", text)
        self.assertIn('hotlead_leads{shard=', text)
        self.assertIn("hotlead_journal_commits_total", text)
        reqs = metric_values(text, "hotlead_http_requests_total")
        self.assertGreaterEqual(reqs.get('{route="GET /healthz",status="200"}', 0), 1)
        self.assertGreaterEqual(reqs.get('{route="POST /v1/leads",status="201"}', 0), 1)
        self.assertGreaterEqual(reqs.get('{route="GET /v1/leads/{id}",status="404"}', 0), 1, reqs)
        leads = metric_values(text, "hotlead_leads")
        self.assertEqual(sorted(leads), ['{shard="%d"}' % i for i in range(4)])
        all_leads, _ = self.srv.list_all(self.key)
        self.assertEqual(sum(leads.values()), len(all_leads))
        self.assertGreaterEqual(metric_values(text, "hotlead_journal_commits_total")[""], 1)
        self.assertIn("hotlead_http_request_duration_seconds_bucket", text)
        self.assertIn("hotlead_events_total", text)
        self.assertIn("hotlead_connections_active", text)
        # Tags are interned: a new tag adds exactly one name to the gauge.
        before = metric_values(text, "hotlead_interned_names")[""]
        self.srv.create_lead(self.key, {"tags": ["metric-tag-once"]})
        self.srv.create_lead(self.key, {"tags": ["metric-tag-once"]})
        after = metric_values(self.srv.metrics(), "hotlead_interned_names")[""]
        self.assertEqual(after, before + 1)
        # A new commit moves the counter.
        before = metric_values(text, "hotlead_journal_commits_total")[""]
        self.assertStatus(self.srv.request("PATCH", "/v1/leads/" + lead["id"],
                                           {"title": "t"}, key=self.key), 200)
        after = metric_values(self.srv.metrics(), "hotlead_journal_commits_total")[""]
        self.assertGreater(after, before)

    def test_x_request_id_is_echoed_on_answers_and_errors(self):
        for method, path, key, want in (("GET", "/healthz", None, 200),
                                        ("GET", "/v1/leads", self.key, 200),
                                        ("GET", "/v1/leads", None, 401),
                                        ("GET", "/v1/leads/zz", self.key, 400),
                                        ("GET", "/nope", None, 404)):
            with self.subTest(path=path, want=want):
                rid = "req-%s-%d" % (path.strip("/").replace("/", "_"), want)
                status, headers, _ = self.srv.request(method, path, key=key,
                                                      headers={"X-Request-Id": rid})
                self.assertEqual(status, want)
                self.assertEqual(headers.get("X-Request-Id"), rid)
        status, headers, _ = self.srv.request("GET", "/healthz")
        self.assertIsNone(headers.get("X-Request-Id"))

    # -- timeouts and limits ------------------------------------------------------------------

    def test_a_client_sending_headers_too_slowly_is_disconnected(self):
        srv = harness.start_server(self, extra_args=["--set", "server.header_timeout=300ms"])
        s = srv.raw_socket(timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed_after = None
        got = b""
        for i in range(40):  # up to 4 s of one header line every 100 ms
            time.sleep(0.1)
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % i)
            except OSError:
                closed_after = time.monotonic() - start
                break
            s.setblocking(False)
            try:
                chunk = s.recv(4096)
                if chunk == b"":
                    closed_after = time.monotonic() - start
                    break
                got += chunk
            except BlockingIOError:
                pass
            except OSError:
                closed_after = time.monotonic() - start
                break
            finally:
                s.setblocking(True)
        self.assertIsNotNone(closed_after, "the slow client was never disconnected")
        self.assertLess(closed_after, 2.0)
        self.assertNotIn(b"200 OK", got)
        # Normal clients are still served.
        self.assertEqual(srv.request("GET", "/healthz")[0], 200)

    def test_a_busy_keep_alive_connection_stays_open_and_an_idle_one_closes(self):
        # One timer per connection, re-armed only when it fires: a connection
        # that keeps sending requests must outlive many header timeouts, and
        # closes one timeout after it goes quiet.
        srv = harness.start_server(self, extra_args=["--set", "server.header_timeout=300ms"])
        s = srv.raw_socket(timeout=5)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 1.5:  # five timeouts' worth of steady use
            s.sendall(raw_request_bytes("GET", "/healthz"))
            r = read_raw_response(f)
            self.assertIsNotNone(r, "a busy connection was closed after %d requests" % n)
            self.assertEqual(r.status, 200)
            idle_since = time.monotonic()
            n += 1
            time.sleep(0.1)
        self.assertEqual(f.read(1), b"", "an idle connection was not closed")
        closed_after = time.monotonic() - idle_since
        self.assertGreater(closed_after, 0.25)  # the timeout, less the coarse clock's tick
        self.assertLess(closed_after, 2.0)

    def test_a_client_that_stops_reading_is_dropped_and_slows_no_one(self):
        srv = harness.start_server(self, extra_args=["--set", "server.body_timeout=500ms"])
        org, key = srv.org_with_key("admin")
        lead = srv.create_lead(key, {"email": "big@example.com", "company": "x" * 200,
                                     "attributes": {"k%d" % i: "v" * 200 for i in range(30)}})
        stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(5)
        stalled.connect(("127.0.0.1", srv.port))
        self.addCleanup(stalled.close)
        one = raw_request_bytes("GET", "/v1/leads/" + lead["id"],
                                headers={"Authorization": "Bearer " + key})
        stalled.sendall(one * 4000)  # ~25 MB of answers it will never read
        # Everyone else is served promptly meanwhile.
        start = time.monotonic()
        for _ in range(50):
            self.assertEqual(srv.request("GET", "/v1/leads/" + lead["id"], key=key)[0], 200)
        self.assertLess(time.monotonic() - start, 2.0)
        # The stalled connection is closed once a write waits past the timeout.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            active = metric_values(srv.metrics(), "hotlead_connections_active")[""]
            if active <= 1:  # only the test's own keep-alive connection is left
                break
            time.sleep(0.2)
        self.assertLessEqual(active, 1, "the stalled connection was never dropped")

    def test_a_body_arriving_too_slowly_is_400_invalid_request(self):
        srv = harness.start_server(self, extra_args=["--set", "server.body_timeout=300ms"])
        b = srv.raw_socket(timeout=5)
        self.addCleanup(b.close)
        start = time.monotonic()
        b.sendall(b"POST /v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + srv.root_key.encode() +
                  b"\r\nContent-Length: 100\r\n\r\n{\"name\":")
        res = read_raw_response(b.makefile("rb"))
        self.assertLess(time.monotonic() - start, 3.0)
        self.assertIsNotNone(res, "closed without the documented 400 invalid_request")
        self.assertEqual(res.status, 400)
        self.assertEqual(res.json()["code"], "invalid_request")
        self.assertEqual(srv.request("GET", "/healthz")[0], 200)

    def test_the_connection_limit_answers_503_overloaded(self):
        srv = harness.start_server(self, extra_args=["--set", "server.max_connections=2"])
        held = []
        for i in range(2):
            s = srv.raw_socket()
            self.addCleanup(s.close)
            s.sendall(raw_request_bytes("GET", "/healthz"))
            r = read_raw_response(s.makefile("rb"))
            self.assertEqual(r.status, 200)
            held.append(s)
        third = srv.raw_socket()
        self.addCleanup(third.close)
        res = read_raw_response(third.makefile("rb"))
        self.assertIsNotNone(res, "the third connection was closed without an answer")
        self.assertEqual(res.status, 503)
        self.assertTrue(res.headers.get("content-type", "").startswith("application/problem+json"))
        self.assertEqual(res.json()["code"], "overloaded")
        self.assertEqual(res.json()["status"], 503)
        # The held connections still work; freeing one lets a new one in.
        held[0].sendall(raw_request_bytes("GET", "/readyz"))
        self.assertEqual(read_raw_response(held[0].makefile("rb")).status, 200)
        held[1].close()
        deadline = time.monotonic() + 5
        status = None
        while time.monotonic() < deadline:
            s = srv.raw_socket()
            try:
                s.sendall(raw_request_bytes("GET", "/healthz"))
                r = read_raw_response(s.makefile("rb"))
                status = r.status if r else None
            except OSError:
                status = None
            finally:
                s.close()
            if status == 200:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200)
        held[0].close()
        text = None
        for _ in range(100):  # the freed sessions go away asynchronously
            try:
                st, _, body = srv.request("GET", "/metrics")
            except harness.CONNECTION_ERRORS:
                st = None
            if st == 200:
                text = body
                break
            srv.close_connections()
            time.sleep(0.05)
        self.assertIsNotNone(text, "GET /metrics never got a connection")
        self.assertGreaterEqual(metric_values(text, "hotlead_connections_refused_total")[""], 1)
        # Like every other error, the 503 names its problem type.
        self.assertEqual(res.json().get("type"), "https://hotlead.dev/problems/overloaded")

    # -- graceful shutdown ------------------------------------------------------------------

    def test_sigterm_answers_requests_in_flight_and_exits_0(self):
        srv = harness.start_server(self)
        org, key = srv.org_with_key("admin")
        leads = [srv.create_lead(key, {"first_name": "drain%d" % i})["id"] for i in range(4)]
        srv.close_connections()
        # Far more than the server answers before the signal, which goes out
        # as soon as answers flow (not after a fixed sleep: a fast server
        # would be done by then).
        per_conn = 3000
        results = [None] * len(leads)
        # The signal goes out once every connection has answers flowing (a
        # connection still opening then would only be refused).
        flowing = threading.Barrier(len(leads) + 1)

        def pipeline(i):
            s = srv.raw_socket(timeout=15)
            try:
                body = json.dumps({"type": "drain"}).encode()
                req = raw_request_bytes("POST", "/v1/leads/%s/events" % leads[i], body,
                                        {"Authorization": "Bearer " + key,
                                         "Content-Type": "application/json"})
                s.sendall(req * per_conn)
                reader = s.makefile("rb")
                answers = []
                for _ in range(per_conn):
                    try:
                        r = read_raw_response(reader)
                    except OSError:
                        break
                    if r is None:
                        break
                    answers.append(r)
                    if len(answers) == 20:
                        flowing.wait(15)
                results[i] = answers
            finally:
                s.close()

        threads = [threading.Thread(target=pipeline, args=(i,)) for i in range(len(leads))]
        for t in threads:
            t.start()
        try:
            flowing.wait(15)
        except threading.BrokenBarrierError:
            self.fail("not every connection had answers before the shutdown")
        os.kill(srv.pid, signal.SIGTERM)
        for t in threads:
            t.join(30)
            self.assertFalse(t.is_alive(), "a client is still waiting for answers")
        try:
            code = srv.proc.wait(20)
        except Exception:
            code = None
        answered = [len(r or []) for r in results]
        for i, answers in enumerate(results):
            self.assertTrue(answers, "connection %d got no answer at all" % i)
            # Every answer is complete (read_raw_response checks the length)
            # and a success.
            self.assertEqual({a.status for a in answers}, {201},
                             [a.body for a in answers if a.status != 201][:3])
        self.assertLess(sum(answered), per_conn * len(leads),
                        "the shutdown came too late to have requests in flight")
        self.assertEqual(code, 0, "exit code after SIGTERM; stderr:\n" + srv.stderr_text()[-2000:])
        self.assertIn("stopped", srv.stderr_text())
        # Every answered event was kept.
        srv.start()
        for i, lid in enumerate(leads):
            got = srv.get_lead(key, lid)
            self.assertGreaterEqual(got["activity"]["events"], answered[i])
            self.assertLessEqual(got["activity"]["events"], per_conn)

    def test_sigterm_on_an_idle_server_exits_0_and_logs_stopped(self):
        srv = harness.start_server(self)
        srv.make_org("idle")  # a server that did something
        self.assertEqual(srv.stop(), 0, srv.stderr_text()[-2000:])
        self.assertIn("stopped", srv.stderr_text())


if __name__ == "__main__":
    unittest.main()
