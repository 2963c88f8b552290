# Tenancy and roles end to end: a key of org A cannot see, patch, delete or
# post events to org B's leads (404, exactly like a missing lead), lists show
# only the own org; the role matrix of docs/API.md (viewer/analyst read only,
# sales_rep writes but does not delete, manager deletes, admin creates keys
# for its own org only, root manages orgs/keys but reads no leads); no key or
# an unknown key is 401 problem+json; only root creates orgs.
import re
import unittest

import harness

MISSING = "00000000000000ff"


class TenancyTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        srv = cls.srv = harness.start_server(cls)
        cls.org_a = srv.make_org("Org A", industry="retail", plan="pro")
        cls.org_b = srv.make_org("Org B")
        cls.keys = {role: srv.make_key(cls.org_a, role)
                    for role in ("admin", "manager", "sales_rep", "analyst", "viewer")}
        cls.admin_b = srv.make_key(cls.org_b, "admin")
        cls.lead_b = srv.create_lead(cls.admin_b, {"email": "shared@example.com",
                                                   "external_id": "crm-1",
                                                   "first_name": "Bea"})
        cls.lead_a = srv.create_lead(cls.keys["admin"], {"email": "only-a@example.com"})

    def req(self, method, path, body=None, key=None, **kw):
        return self.srv.request(method, path, body, key=key, **kw)

    def b_unchanged(self):
        got = self.srv.get_lead(self.admin_b, self.lead_b["id"])
        self.assertEqual(got, self.lead_b)

    # -- isolation --------------------------------------------------------------------------

    def test_another_orgs_lead_answers_404_like_a_missing_one(self):
        a = self.keys["admin"]
        bid = self.lead_b["id"]
        cases = [("GET", "", None), ("PATCH", "", {"first_name": "Mallory"}),
                 ("DELETE", "", None), ("POST", "/events", {"type": "page_view"})]
        for method, suffix, body in cases:
            with self.subTest(method=method, suffix=suffix):
                theirs = self.assertProblem(self.req(method, "/v1/leads/" + bid + suffix, body,
                                                     key=a), 404, "not_found")
                missing = self.assertProblem(self.req(method, "/v1/leads/" + MISSING + suffix,
                                                      body, key=a), 404, "not_found")
                # Same answer apart from the id itself.
                self.assertEqual(theirs["detail"].replace(bid, "<id>"),
                                 missing["detail"].replace(MISSING, "<id>"))
                self.assertEqual(set(theirs), set(missing))
                self.assertEqual(theirs["title"], missing["title"])
        self.b_unchanged()

    def test_reads_arriving_together_each_get_their_own_answer(self):
        # GETs of many connections that arrive in one turn of the io loop are
        # read from the shards as one batch (bridge::read_lead): own leads,
        # another org's lead and missing ids mixed in each batch.
        a = self.keys["admin"]
        own = [self.srv.create_lead(a, {"email": "batch%d@example.com" % i,
                                        "company": 'Quote "%d" & Co' % i})
               for i in range(12)]
        wanted = []  # per connection: (path, expected lead or None)
        for c in range(16):
            row = []
            for j in range(6):
                k = (c * 6 + j) % 14
                if k < 12:
                    row.append(("/v1/leads/" + own[k]["id"], own[k]))
                elif k == 12:
                    row.append(("/v1/leads/" + self.lead_b["id"], None))
                else:
                    row.append(("/v1/leads/" + MISSING, None))
            wanted.append(row)
        socks = [self.srv.raw_socket() for _ in wanted]
        for s in socks:
            self.addCleanup(s.close)
        auth = {"Authorization": "Bearer " + a}
        for s, row in zip(socks, wanted):
            s.sendall(b"".join(harness.raw_request_bytes("GET", p, headers=auth) for p, _ in row))
        for s, row in zip(socks, wanted):
            reader = s.makefile("rb")
            for path, lead in row:
                res = harness.read_raw_response(reader)
                if lead is None:
                    self.assertEqual(res.status, 404, path)
                    self.assertEqual(res.json()["code"], "not_found")
                else:
                    self.assertEqual(res.status, 200, path)
                    self.assertEqual(res.json(), lead)
        self.b_unchanged()

    def test_a_batch_event_for_another_orgs_lead_is_not_found(self):
        a = self.keys["admin"]
        own = self.srv.create_lead(a, {"first_name": "batch"})
        status, _, out = self.req("POST", "/v1/events:batch",
                                  [{"lead_id": self.lead_b["id"], "type": "page_view"},
                                   {"lead_id": own["id"], "type": "page_view"}], key=a)
        self.assertEqual(status, 200, out)
        self.assertEqual(out["accepted"], 1)
        self.assertEqual([(e["index"], e["code"]) for e in out["errors"]], [(0, "not_found")])
        self.assertEqual(self.srv.get_lead(a, own["id"])["activity"]["events"], 1)
        self.b_unchanged()

    def test_lists_show_only_the_own_orgs_leads(self):
        for role, key in self.keys.items():
            leads, _ = self.srv.list_all(key)
            self.assertTrue(all(l["org_id"] == self.org_a for l in leads), role)
            self.assertNotIn(self.lead_b["id"], [l["id"] for l in leads], role)
        leads, _ = self.srv.list_all(self.admin_b)
        self.assertEqual({l["org_id"] for l in leads}, {self.org_b})
        self.assertNotIn(self.lead_a["id"], [l["id"] for l in leads])

    def test_emails_and_external_ids_are_unique_per_org_only(self):
        a = self.keys["manager"]
        status, _, lead = self.req("POST", "/v1/leads?upsert=email",
                                   {"email": "SHARED@example.com", "first_name": "Al"}, key=a)
        self.assertEqual(status, 201, lead)  # B's lead was not upserted
        self.assertEqual(lead["org_id"], self.org_a)
        status, _, lead2 = self.req("POST", "/v1/leads?upsert=external_id",
                                    {"external_id": "crm-1"}, key=a)
        self.assertEqual(status, 201, lead2)
        self.b_unchanged()
        self.assertStatus(self.req("DELETE", "/v1/leads/" + lead["id"], key=a), 204)
        self.assertStatus(self.req("DELETE", "/v1/leads/" + lead2["id"], key=a), 204)

    # -- roles --------------------------------------------------------------------------------

    def test_viewer_and_analyst_read_but_cannot_write(self):
        lid = self.lead_a["id"]
        for role in ("viewer", "analyst"):
            k = self.keys[role]
            with self.subTest(role=role):
                self.assertEqual(self.srv.get_lead(k, lid)["id"], lid)
                self.assertStatus(self.req("GET", "/v1/leads", key=k), 200)
                self.assertProblem(self.req("POST", "/v1/leads", {"first_name": "x"}, key=k),
                                   403, "forbidden")
                self.assertProblem(self.req("POST", "/v1/leads?upsert=email",
                                            {"email": "only-a@example.com"}, key=k),
                                   403, "forbidden")
                self.assertProblem(self.req("PATCH", "/v1/leads/" + lid, {"title": "x"},
                                            key=k), 403, "forbidden")
                self.assertProblem(self.req("POST", "/v1/leads/%s/events" % lid,
                                            {"type": "page_view"}, key=k), 403, "forbidden")
                self.assertProblem(self.req("POST", "/v1/events:batch",
                                            [{"lead_id": lid, "type": "page_view"}], key=k),
                                   403, "forbidden")
                self.assertProblem(self.req("DELETE", "/v1/leads/" + lid, key=k),
                                   403, "forbidden")
                self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a,
                                            {"role": "viewer"}, key=k), 403, "forbidden")
        self.assertEqual(self.srv.get_lead(self.keys["admin"], lid), self.lead_a)

    def test_sales_rep_writes_but_cannot_delete(self):
        k = self.keys["sales_rep"]
        lead = self.srv.create_lead(k, {"first_name": "Rep"})
        self.assertStatus(self.req("PATCH", "/v1/leads/" + lead["id"], {"title": "x"}, key=k),
                          200)
        self.assertStatus(self.req("POST", "/v1/leads/%s/events" % lead["id"],
                                   {"type": "call"}, key=k), 201)
        self.assertStatus(self.req("POST", "/v1/events:batch",
                                   [{"lead_id": lead["id"], "type": "call"}], key=k), 200)
        self.assertProblem(self.req("DELETE", "/v1/leads/" + lead["id"], key=k), 403,
                           "forbidden")
        got = self.srv.get_lead(k, lead["id"])
        self.assertEqual(got["activity"]["events"], 2)
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a,
                                    {"role": "viewer"}, key=k), 403, "forbidden")

    def test_manager_and_admin_delete(self):
        for role in ("manager", "admin"):
            k = self.keys[role]
            lead = self.srv.create_lead(k, {"first_name": role})
            self.assertStatus(self.req("DELETE", "/v1/leads/" + lead["id"], key=k), 204)
            self.assertProblem(self.req("GET", "/v1/leads/" + lead["id"], key=k), 404,
                               "not_found")

    def test_manager_cannot_create_keys(self):
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a,
                                    {"role": "viewer"}, key=self.keys["manager"]),
                           403, "forbidden")

    def test_admin_creates_keys_for_its_own_org_but_not_another(self):
        admin = self.keys["admin"]
        status, _, k = self.req("POST", "/v1/orgs/%s/keys" % self.org_a,
                                {"role": "viewer", "name": "dashboard"}, key=admin)
        self.assertEqual(status, 201, k)
        self.assertEqual(k["org_id"], self.org_a)
        self.assertEqual(k["role"], "viewer")
        self.assertEqual(k["name"], "dashboard")
        self.assertRegex(k["id"], harness.ID_RE)
        self.assertRegex(k["created_at"], harness.TIME_RE)
        self.assertTrue(k["key"])
        # The new key works, with its role.
        self.assertEqual(self.srv.get_lead(k["key"], self.lead_a["id"])["id"], self.lead_a["id"])
        self.assertProblem(self.req("POST", "/v1/leads", {}, key=k["key"]), 403, "forbidden")
        # Another org: 404, like a missing org.
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_b, {"role": "admin"},
                                    key=admin), 404, "not_found")
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % MISSING, {"role": "admin"},
                                    key=admin), 404, "not_found")

    def test_an_admin_key_of_org_a_does_not_grant_anything_in_org_b(self):
        status, _, k = self.req("POST", "/v1/orgs/%s/keys" % self.org_a, {"role": "admin"},
                                key=self.keys["admin"])
        self.assertEqual(status, 201, k)
        self.assertProblem(self.req("GET", "/v1/leads/" + self.lead_b["id"], key=k["key"]),
                           404, "not_found")

    def test_root_manages_orgs_and_keys_but_cannot_touch_leads(self):
        root = self.srv.root_key
        lid = self.lead_a["id"]
        self.assertProblem(self.req("GET", "/v1/leads/" + lid, key=root), 403, "forbidden")
        self.assertProblem(self.req("GET", "/v1/leads", key=root), 403, "forbidden")
        self.assertProblem(self.req("POST", "/v1/leads", {"first_name": "r"}, key=root),
                           403, "forbidden")
        self.assertProblem(self.req("PATCH", "/v1/leads/" + lid, {"title": "r"}, key=root),
                           403, "forbidden")
        self.assertProblem(self.req("DELETE", "/v1/leads/" + lid, key=root), 403, "forbidden")
        self.assertProblem(self.req("POST", "/v1/leads/%s/events" % lid, {"type": "x"},
                                    key=root), 403, "forbidden")
        self.assertProblem(self.req("POST", "/v1/events:batch",
                                    [{"lead_id": lid, "type": "x"}], key=root), 403, "forbidden")
        # Root creates keys in any org, but not in a missing one.
        k = self.srv.make_key(self.org_b, "viewer")
        self.assertEqual(self.srv.get_lead(k, self.lead_b["id"]), self.lead_b)
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % MISSING, {"role": "viewer"},
                                    key=root), 404, "not_found")
        self.assertEqual(self.srv.get_lead(self.keys["admin"], lid), self.lead_a)

    def test_only_root_creates_orgs(self):
        status, headers, org = self.req("POST", "/v1/orgs", {"name": "Org C"},
                                        key=self.srv.root_key)
        self.assertEqual(status, 201, org)
        self.assertRegex(org["id"], harness.ID_RE)
        self.assertEqual(org["name"], "Org C")
        self.assertIsNone(org["industry"])
        self.assertEqual(org["plan"], "free")
        self.assertRegex(org["created_at"], harness.TIME_RE)
        for role, k in list(self.keys.items()) + [("admin_b", self.admin_b)]:
            with self.subTest(role=role):
                self.assertProblem(self.req("POST", "/v1/orgs", {"name": "Evil"}, key=k),
                                   403, "forbidden")

    def test_org_and_key_requests_are_validated(self):
        root = self.srv.root_key
        self.assertProblem(self.req("POST", "/v1/orgs", {}, key=root), 400, "missing_field")
        self.assertProblem(self.req("POST", "/v1/orgs", {"name": "X", "plan": "gold"},
                                    key=root), 400, "invalid_field")
        self.assertProblem(self.req("POST", "/v1/orgs", {"name": "X", "size": 3}, key=root),
                           400, "unknown_field")
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a, {}, key=root),
                           400, "missing_field")
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a, {"role": "root"},
                                    key=root), 400, "invalid_field")
        self.assertProblem(self.req("POST", "/v1/orgs/%s/keys" % self.org_a,
                                    {"role": "viewer", "scope": "all"}, key=root),
                           400, "unknown_field")
        self.assertProblem(self.req("POST", "/v1/orgs/not-an-id/keys", {"role": "viewer"},
                                    key=root), 400, "invalid_id")

    # -- authentication ------------------------------------------------------------------------

    def test_no_key_or_an_unknown_key_is_401_problem_json(self):
        lid = self.lead_a["id"]
        requests = [("GET", "/v1/leads/" + lid, None), ("GET", "/v1/leads", None),
                    ("POST", "/v1/leads", {"first_name": "x"}),
                    ("POST", "/v1/orgs", {"name": "x"}),
                    ("POST", "/v1/orgs/%s/keys" % self.org_a, {"role": "admin"}),
                    ("POST", "/admin/snapshot", None)]
        auths = [None, "Bearer hl_" + "0" * 48, "Bearer ", "Basic dXNlcjpwYXNz",
                 self.keys["admin"], "Bearer " + self.keys["admin"] + "x"]
        for method, path, body in requests:
            for auth in auths:
                with self.subTest(method=method, path=path, auth=auth):
                    headers = {"Authorization": auth} if auth else None
                    res = self.srv.request(method, path, body, headers=headers)
                    self.assertProblem(res, 401, "unauthorized")
                    self.assertTrue(res[1].get("WWW-Authenticate", "").startswith("Bearer"))
        leads, _ = self.srv.list_all(self.keys["admin"])
        self.assertTrue(all(l.get("first_name") != "x" for l in leads))

    def test_unauthenticated_probes_need_no_key(self):
        for path in ("/healthz", "/readyz", "/metrics"):
            self.assertEqual(self.req("GET", path)[0], 200, path)


if __name__ == "__main__":
    unittest.main()
