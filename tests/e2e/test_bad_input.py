# Bad input end to end: every class of bad request is answered with a 4xx
# application/problem+json carrying the exact `code` of docs/API.md, the
# server keeps serving, and nothing changed (checked with a full list and a
# GET afterwards). Covers malformed JSON, non-object bodies, wrong types per
# field kind, too-long strings, bad email/phone/status, too many tags or
# attributes, bad attribute keys, null attributes on create, unknown fields,
# a missing content type (415), oversized bodies (413, also with
# server.max_body_bytes=2048), bad ids, unknown paths (404), wrong methods
# (405 + Allow), bad events (ts range, properties) and bad batches.
import json
import socket
import time
import unittest

import harness

LEAD_FIELDS_TEXT = ["first_name", "last_name", "company", "title", "owner"]


class BadInputTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        srv = cls.srv = harness.start_server(cls)
        cls.org, cls.key = srv.org_with_key("admin")
        cls.lead = srv.create_lead(cls.key, {
            "email": "base@example.com", "external_id": "base-1", "first_name": "Base",
            "phone": "+1 555 0100", "tags": ["a"], "attributes": {"k": "v", "n": 1}})
        cls.lead_path = "/v1/leads/" + cls.lead["id"]

    # -- helpers -----------------------------------------------------------------------------

    def state(self):
        leads, _ = self.srv.list_all(self.key)
        return sorted(leads, key=lambda l: l["id"])

    def still_serving(self):
        c = self.srv.connection(timeout=5)
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200, "the server stopped serving")
        finally:
            c.close()

    def rejects(self, method, path, body=None, status=400, code=None, raw=None,
                content_type="application/json", key="default", msg=None):
        """Sends one bad request; asserts the problem, that the server still
        answers and that no lead changed."""
        before = self.state()
        res = self.srv.request(method, path, body, raw_body=raw, content_type=content_type,
                               key=self.key if key == "default" else key)
        problem = self.assertProblem(res, status, code, msg)
        self.assertEqual(problem.get("instance"), path.split("?")[0], msg)
        self.still_serving()
        self.assertEqual(self.state(), before, "a rejected request changed data (%s)" % msg)
        return problem

    def rejects_lead_body(self, body, code, status=400):
        """The same bad lead body on create, upsert and patch."""
        for method, path in (("POST", "/v1/leads"), ("POST", "/v1/leads?upsert=email"),
                             ("PATCH", self.lead_path)):
            with self.subTest(method=method, path=path, body=body):
                self.rejects(method, path, raw=body if isinstance(body, str) else None,
                             body=None if isinstance(body, str) else body,
                             status=status, code=code, msg="%s %s %r" % (method, path, body))

    # -- JSON shape ----------------------------------------------------------------------------

    def test_malformed_json_is_400_malformed_json(self):
        for raw in ('{"email": ', "{'email': 'a@b.co'}", "", "nul", '{"a":1}}', "\xff\xfe",
                    '{"first_name": "x",}'):
            self.rejects_lead_body(raw, "malformed_json")
        for raw in ("", "{", "[1,"):
            with self.subTest(raw=raw):
                self.rejects("POST", self.lead_path + "/events", raw=raw, code="malformed_json")
                self.rejects("POST", "/v1/events:batch", raw=raw, code="malformed_json")
                self.rejects("POST", "/v1/orgs", raw=raw, code="malformed_json",
                             key=self.srv.root_key)

    def test_a_body_that_is_not_an_object_is_400_malformed_json(self):
        for raw in ("[]", "[{}]", '"lead"', "42", "null", "true"):
            self.rejects_lead_body(raw, "malformed_json")
            with self.subTest(raw=raw):
                self.rejects("POST", self.lead_path + "/events", raw=raw, code="malformed_json")
        # events:batch wants an array.
        self.rejects("POST", "/v1/events:batch", {"lead_id": self.lead["id"], "type": "x"},
                     code="malformed_json")

    # -- field values ----------------------------------------------------------------------------

    def test_wrong_types_for_each_field_kind_are_400_invalid_field(self):
        bad = [{"email": 5}, {"email": ["a@b.co"]}, {"external_id": 12}, {"phone": 5551234},
               {"source": {}}, {"status": 1}, {"status": ["new"]}, {"tags": "vip"},
               {"tags": [1]}, {"tags": [None]}, {"tags": [["a"]]}, {"tags": {"a": 1}},
               {"attributes": []}, {"attributes": "k=v"}, {"attributes": {"k": [1]}},
               {"attributes": {"k": {"a": 1}}}]
        bad += [{f: v} for f in LEAD_FIELDS_TEXT for v in (1, True, ["x"], {"x": 1})]
        for body in bad:
            self.rejects_lead_body(body, "invalid_field")

    def test_too_long_strings_are_400_invalid_field(self):
        bad = [{f: "x" * 257} for f in LEAD_FIELDS_TEXT]
        bad += [{"external_id": "e" * 129}, {"source": "s" * 65}, {"phone": "1" * 33},
                {"email": "a" * 64 + "@" + "d" * 186 + ".com"},
                {"tags": ["t" * 65]}, {"attributes": {"k": "v" * 1025}},
                {"attributes": {"k" * 65: 1}}]
        for body in bad:
            self.rejects_lead_body(body, "invalid_field")

    def test_strings_at_the_limit_are_accepted(self):
        body = {f: "x" * 256 for f in LEAD_FIELDS_TEXT}
        body.update({"external_id": "e" * 128, "source": "s" * 64, "phone": "1" * 32,
                     "tags": ["t" * 64] + ["t%d" % i for i in range(31)],
                     "attributes": dict([("k" * 64, "v" * 1024)] +
                                        [("a%d" % i, i) for i in range(63)])})
        status, _, lead = self.srv.request("POST", "/v1/leads", body, key=self.key)
        self.assertEqual(status, 201, lead)
        self.assertEqual(len(lead["tags"]), 32)
        self.assertEqual(len(lead["attributes"]), 64)
        self.assertStatus(self.srv.request("DELETE", "/v1/leads/" + lead["id"], key=self.key),
                          204)

    def test_bad_emails_are_400_invalid_field(self):
        for email in ("x", "a@b", "@example.com", "ada@", "a@@example.com", "a@b@example.com",
                      "a b@example.com", "ada@example..com", "ada@.com", "ada@com.",
                      "ada@-example.com", "ad<a>@example.com", "ada@exa;mple.com", ""):
            self.rejects_lead_body({"email": email}, "invalid_field")

    def test_bad_phones_are_400_invalid_field(self):
        for phone in ("555-CALL-NOW", "12;34", "+1 555 0100 #2", "phone", "555\n0100"):
            self.rejects_lead_body({"phone": phone}, "invalid_field")

    def test_bad_status_is_400_invalid_field(self):
        for st in ("hot", "", "won", "new "):
            self.rejects_lead_body({"status": st}, "invalid_field")

    def test_too_many_tags_or_attributes_are_400_invalid_field(self):
        self.rejects_lead_body({"tags": ["t%d" % i for i in range(33)]}, "invalid_field")
        self.rejects_lead_body({"attributes": {"a%d" % i: i for i in range(65)}},
                               "invalid_field")

    def test_a_patch_cannot_grow_a_lead_past_64_attributes(self):
        lead = self.srv.create_lead(self.key, {"attributes": {"a%d" % i: i for i in range(64)}})
        path = "/v1/leads/" + lead["id"]
        self.rejects("PATCH", path, {"attributes": {"one_more": 1}}, code="invalid_field")
        self.assertEqual(len(self.srv.get_lead(self.key, lead["id"])["attributes"]), 64)
        # Replacing one (remove + add in one patch) keeps it at 64 and is fine.
        status, _, got = self.srv.request("PATCH", path,
                                          {"attributes": {"a0": None, "b0": True}}, key=self.key)
        self.assertEqual(status, 200, got)
        self.assertEqual(len(got["attributes"]), 64)
        self.assertStatus(self.srv.request("DELETE", path, key=self.key), 204)

    def test_bad_attribute_keys_are_400_invalid_field(self):
        for k in ("bad key", "a/b", "", "ключ", "a:b", "a$b", "x" * 65):
            self.rejects_lead_body({"attributes": {k: 1}}, "invalid_field")

    def test_a_null_attribute_on_create_is_400_invalid_field(self):
        self.rejects("POST", "/v1/leads", {"attributes": {"k": None}}, code="invalid_field")
        self.rejects("POST", "/v1/leads?upsert=email",
                     {"email": "new-one@example.com", "attributes": {"k": None}},
                     code="invalid_field")

    def test_unknown_fields_are_400_unknown_field(self):
        for body in ({"emial": "a@b.co"}, {"id": "0000000000000001"}, {"org_id": "x"},
                     {"created_at": "2024-01-01T00:00:00Z"}, {"activity": {}},
                     {"first_name": "ok", "score": 5}):
            self.rejects_lead_body(body, "unknown_field")
        self.rejects("POST", self.lead_path + "/events", {"type": "x", "lead_id": "y"},
                     code="unknown_field")
        self.rejects("POST", self.lead_path + "/events", {"type": "x", "props": {}},
                     code="unknown_field")

    def test_one_bad_field_rejects_the_whole_patch(self):
        self.rejects("PATCH", self.lead_path,
                     {"first_name": "Changed", "tags": ["z"], "phone": "call me"},
                     code="invalid_field")
        self.rejects("PATCH", self.lead_path, {"first_name": "Changed", "nope": 1},
                     code="unknown_field")
        self.assertEqual(self.srv.get_lead(self.key, self.lead["id"]), self.lead)

    # -- content type and size -------------------------------------------------------------------

    def test_a_body_without_json_content_type_is_415(self):
        body = '{"first_name": "x"}'
        for ct in (None, "text/plain", "application/x-www-form-urlencoded",
                   "application/jsonx", "application/x-ndjson"):
            with self.subTest(ct=ct):
                self.rejects("POST", "/v1/leads", raw=body, content_type=ct, status=415,
                             code="unsupported_media_type")
                self.rejects("PATCH", self.lead_path, raw=body, content_type=ct, status=415,
                             code="unsupported_media_type")
                self.rejects("POST", self.lead_path + "/events", raw='{"type":"x"}',
                             content_type=ct, status=415, code="unsupported_media_type")
        self.rejects("POST", "/v1/events:batch", raw="[]", content_type="text/csv",
                     status=415, code="unsupported_media_type")
        self.rejects("POST", "/v1/orgs", raw='{"name":"x"}', content_type=None, status=415,
                     code="unsupported_media_type", key=self.srv.root_key)
        # Parameters after the media type are fine.
        status, _, lead = self.srv.request("POST", "/v1/leads", raw_body=body, key=self.key,
                                           content_type="application/json; charset=utf-8")
        self.assertEqual(status, 201, lead)
        self.assertStatus(self.srv.request("DELETE", "/v1/leads/" + lead["id"], key=self.key),
                          204)

    def raw_exchange(self, data, srv=None):
        """Sends bytes on a fresh socket and reads one response."""
        s = (srv or self.srv).raw_socket(timeout=10)
        try:
            s.sendall(data)
            return harness.read_raw_response(s.makefile("rb"))
        finally:
            s.close()

    def assertRawProblem(self, res, status, code):
        self.assertIsNotNone(res, "connection closed without an answer")
        self.assertEqual(res.status, status, res.body)
        self.assertTrue(res.headers.get("content-type", "").startswith(
            "application/problem+json"))
        self.assertEqual(res.json()["code"], code)

    def announce(self, path, length, extra=""):
        return ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                % (path, self.key, length, extra)).encode()

    def test_a_body_over_1_mib_is_413_body_too_large(self):
        before = self.state()
        # Announced with Content-Length: answered before the body is sent.
        res = self.raw_exchange(self.announce("/v1/leads", 1048577))
        self.assertRawProblem(res, 413, "body_too_large")
        res = self.raw_exchange(self.announce("/v1/events:batch", 50 * 1048576))
        self.assertRawProblem(res, 413, "body_too_large")
        # Sent in full through http.client (the server may close early).
        big = json.dumps({"first_name": "x", "attributes": {"k": "v" * 1000}}) + " " * 1048576
        try:
            status, _, body = self.srv.request("POST", "/v1/leads", raw_body=big, key=self.key)
            self.assertEqual(status, 413, body)
            self.assertEqual(body["code"], "body_too_large")
        except harness.CONNECTION_ERRORS:
            pass  # closed while we were still sending: acceptable, nothing stored
        self.still_serving()
        self.assertEqual(self.state(), before)

    def test_oversized_headers_and_garbage_http_are_400_invalid_request(self):
        before = self.state()
        res = self.raw_exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                                b"\r\n\r\n")
        self.assertRawProblem(res, 400, "invalid_request")
        res = self.raw_exchange(b"THIS IS NOT HTTP\r\n\r\n")
        self.assertRawProblem(res, 400, "invalid_request")
        res = self.raw_exchange(b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        self.assertRawProblem(res, 400, "invalid_request")
        self.still_serving()
        self.assertEqual(self.state(), before)

    # -- paths, ids and methods ------------------------------------------------------------------

    def test_bad_ids_are_400_invalid_id(self):
        for bad in ("xyz", "123", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg",
                    "0000000000000000", "-123456789abcdef", "%20123456789abcde"):
            with self.subTest(id=bad):
                path = "/v1/leads/" + bad
                self.rejects("GET", path, code="invalid_id")
                self.rejects("PATCH", path, {"first_name": "x"}, code="invalid_id")
                self.rejects("DELETE", path, code="invalid_id")
                self.rejects("POST", path + "/events", {"type": "x"}, code="invalid_id")
                self.rejects("POST", "/v1/orgs/%s/keys" % bad, {"role": "viewer"},
                             code="invalid_id", key=self.srv.root_key)

    def test_unknown_paths_are_404_not_found(self):
        for path in ("/", "/v1", "/v2/leads", "/v1/nothing", "/v1/leads/%s/notes" % self.lead["id"],
                     "/v1/leads/%s/events/x" % self.lead["id"], "/healthz/x", "/admin",
                     "/v1/orgs/%s" % self.org, "/v1/orgs/%s/keys/x/y" % self.org,
                     "/a/b/c/d/e/f/g", "/v1/events:batchx"):
            with self.subTest(path=path):
                self.rejects("GET", path, status=404, code="not_found")

    def test_wrong_methods_are_405_with_an_allow_header(self):
        cases = [("PUT", "/v1/leads", "GET, POST"), ("DELETE", "/v1/leads", "GET, POST"),
                 ("POST", self.lead_path, "GET, PATCH, DELETE"),
                 ("PUT", self.lead_path, "GET, PATCH, DELETE"),
                 ("GET", self.lead_path + "/events", "POST"),
                 ("DELETE", self.lead_path + "/events", "POST"),
                 ("GET", "/v1/orgs", "POST"), ("PUT", "/v1/orgs/%s/keys" % self.org, "GET, POST"),
                 ("GET", "/v1/orgs/%s/keys/0123456789abcdef" % self.org, "DELETE"),
                 ("GET", "/v1/events:batch", "POST"), ("GET", "/admin/snapshot", "POST"),
                 ("POST", "/healthz", "GET"), ("DELETE", "/readyz", "GET"),
                 ("PUT", "/metrics", "GET")]
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                before = self.state()
                res = self.srv.request(method, path, key=self.key)
                self.assertProblem(res, 405, "method_not_allowed")
                self.assertEqual(res[1].get("Allow"), allow)
                self.still_serving()
                self.assertEqual(self.state(), before)

    # -- events ------------------------------------------------------------------------------------

    def test_bad_events_are_rejected_and_record_nothing(self):
        path = self.lead_path + "/events"
        now_ms = int(time.time() * 1000)
        day = 86400000
        cases = [
            ({"type": "x", "ts": now_ms + 2 * day}, "invalid_field"),
            ({"type": "x", "ts": "2999-01-01T00:00:00Z"}, "invalid_field"),
            ({"type": "x", "ts": "1999-12-31T23:59:59Z"}, "invalid_field"),
            ({"type": "x", "ts": 946684799999}, "invalid_field"),
            ({"type": "x", "ts": 0}, "invalid_field"),
            ({"type": "x", "ts": -5}, "invalid_field"),
            ({"type": "x", "ts": "yesterday"}, "invalid_field"),
            ({"type": "x", "ts": "2024-05-01T10:00:00"}, "invalid_field"),
            ({"type": "x", "ts": "2024-02-30T10:00:00Z"}, "invalid_field"),
            ({"type": "x", "ts": 1714550400000.5}, "invalid_field"),
            ({"type": "x", "ts": True}, "invalid_field"),
            ({"type": "x", "ts": None}, "invalid_field"),
            ({"type": "x", "properties": "url=/"}, "invalid_field"),
            ({"type": "x", "properties": ["a"]}, "invalid_field"),
            ({"type": "x", "properties": None}, "invalid_field"),
            ({"type": "x", "properties": {"blob": "b" * 4100}}, "invalid_field"),
            ({"type": ""}, "invalid_field"),
            ({"type": 5}, "invalid_field"),
            ({"type": "t" * 65}, "invalid_field"),
            ({}, "missing_field"),
            ({"ts": "2024-05-01T10:00:00Z"}, "missing_field"),
        ]
        for body, code in cases:
            with self.subTest(body=str(body)[:80]):
                self.rejects("POST", path, body, code=code)
        # Boundaries that are fine: 2000-01-01 exactly, ~now + 23 h, 4 KiB properties.
        ok = [{"type": "edge", "ts": 946684800000}, {"type": "edge", "ts": now_ms + day - 3600000},
              {"type": "edge", "properties": {"b": "x" * 4000}}]
        lead_id = self.srv.create_lead(self.key, {})["id"]
        for body in ok:
            with self.subTest(ok=str(body)[:80]):
                self.assertStatus(self.srv.request("POST", "/v1/leads/%s/events" % lead_id, body,
                                                   key=self.key), 201)
        self.assertStatus(self.srv.request("DELETE", "/v1/leads/" + lead_id, key=self.key), 204)

    def test_an_empty_batch_is_400_invalid_request(self):
        self.rejects("POST", "/v1/events:batch", [], code="invalid_request")

    def test_an_empty_ndjson_batch_is_400_invalid_request(self):
        self.rejects("POST", "/v1/events:batch", raw="", content_type="application/x-ndjson",
                     code="invalid_request")
        self.rejects("POST", "/v1/events:batch", raw="\n \n\r\n",
                     content_type="application/x-ndjson", code="invalid_request")

    def test_a_batch_over_10000_events_is_400_invalid_request(self):
        lid = self.lead["id"]
        too_many = [{"lead_id": lid, "type": "x"}] * 10001
        self.rejects("POST", "/v1/events:batch", too_many, code="invalid_request")
        ndjson = "\n".join(json.dumps({"lead_id": lid, "type": "x"}) for _ in range(10001))
        self.rejects("POST", "/v1/events:batch", raw=ndjson,
                     content_type="application/x-ndjson", code="invalid_request")
        self.assertEqual(self.srv.get_lead(self.key, lid)["activity"]["events"], 0)


class SmallBodyLimitTest(harness.ServerTestCase):
    """server.max_body_bytes=2048: the limit is configurable and exact."""

    @classmethod
    def setUpClass(cls):
        srv = cls.srv = harness.start_server(cls, extra_args=["--set",
                                                              "server.max_body_bytes=2048"])
        cls.org, cls.key = srv.org_with_key("admin")

    def body_of(self, n):
        b = json.dumps({"first_name": "edge"})
        return (b + " " * (n - len(b))).encode()

    def head(self, extra):
        return ("POST /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\n%s\r\n" % (self.key, extra)).encode()

    def exchange(self, data):
        s = self.srv.raw_socket(timeout=10)
        try:
            s.sendall(data)
            return harness.read_raw_response(s.makefile("rb"))
        finally:
            s.close()

    def assertTooLarge(self, res):
        before = self.srv.list_all(self.key)[0]
        self.assertIsNotNone(res, "connection closed without an answer")
        self.assertEqual(res.status, 413, res.body)
        self.assertTrue(res.headers.get("content-type", "").startswith(
            "application/problem+json"))
        self.assertEqual(res.json()["code"], "body_too_large")
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.srv.list_all(self.key)[0], before)

    def test_a_body_of_exactly_max_body_bytes_is_accepted(self):
        status, _, lead = self.srv.request("POST", "/v1/leads", raw_body=self.body_of(2048),
                                           key=self.key)
        self.assertEqual(status, 201, lead)
        self.assertStatus(self.srv.request("DELETE", "/v1/leads/" + lead["id"], key=self.key),
                          204)

    def test_an_announced_body_over_max_body_bytes_is_413(self):
        self.assertTooLarge(self.exchange(self.head("Content-Length: 2049\r\n")))

    def test_a_body_sent_in_full_over_max_body_bytes_is_413(self):
        body = self.body_of(3000)
        self.assertTooLarge(self.exchange(self.head("Content-Length: %d\r\n" % len(body)) +
                                          body))

    def test_a_chunked_body_over_max_body_bytes_is_413(self):
        body = self.body_of(3000)
        self.assertTooLarge(self.exchange(self.head("Transfer-Encoding: chunked\r\n") +
                                          b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"))


if __name__ == "__main__":
    unittest.main()
