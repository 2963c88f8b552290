# API key management: an org admin (or root) lists the org's keys without
# their secrets and revokes one; a revoked key answers 401 at once, also on a
# keep-alive connection that had already authenticated with it, and stays
# revoked after a restart. Other orgs and lesser roles cannot see or revoke.
import http.client
import json
import unittest

import harness


class KeysTest(harness.ServerTestCase):
    def setUp(self):
        self.srv = harness.start_server(self)

    def test_an_admin_lists_keys_without_secrets_and_revokes_one(self):
        s = self.srv
        org, admin = s.org_with_key("admin")
        rep_status, _, rep = s.request("POST", "/v1/orgs/%s/keys" % org,
                                       {"role": "sales_rep", "name": "crm sync"}, key=admin)
        self.assertEqual(rep_status, 201, rep)
        status, _, listed = s.request("GET", "/v1/orgs/%s/keys" % org, key=admin)
        self.assertEqual(status, 200, listed)
        by_name = {k["name"]: k for k in listed["data"]}
        self.assertEqual(by_name["crm sync"]["role"], "sales_rep")
        self.assertEqual(by_name["crm sync"]["id"], rep["id"])
        self.assertTrue(all("key" not in k for k in listed["data"]), listed)
        # A connection that already used the key...
        conn = s.connection()
        self.addCleanup(conn.close)
        headers = {"Authorization": "Bearer " + rep["key"]}
        conn.request("GET", "/v1/leads?limit=1", headers=headers)
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        status, _, body = s.request("DELETE", "/v1/orgs/%s/keys/%s" % (org, rep["id"]), key=admin)
        self.assertEqual(status, 204, body)
        # ...is refused on its very next request.
        conn.request("GET", "/v1/leads?limit=1", headers=headers)
        r = conn.getresponse()
        body = json.loads(r.read())
        self.assertEqual(r.status, 401)
        self.assertEqual(body["code"], "unauthorized")
        self.assertEqual(s.request("GET", "/v1/leads", key=rep["key"])[0], 401)
        self.assertEqual(s.request("GET", "/v1/leads", key=admin)[0], 200)
        status, _, listed = s.request("GET", "/v1/orgs/%s/keys" % org, key=admin)
        self.assertNotIn(rep["id"], [k["id"] for k in listed["data"]])
        # Revoked for good.
        s.restart()
        self.assertEqual(s.request("GET", "/v1/leads", key=rep["key"])[0], 401)
        self.assertEqual(s.request("GET", "/v1/leads", key=admin)[0], 200)
        status, _, body = s.request("DELETE", "/v1/orgs/%s/keys/%s" % (org, rep["id"]), key=admin)
        self.assertEqual(status, 404, body)

    def test_root_manages_any_orgs_keys(self):
        s = self.srv
        org, admin = s.org_with_key("admin")
        status, _, listed = s.request("GET", "/v1/orgs/%s/keys" % org, key=s.root_key)
        self.assertEqual(status, 200)
        self.assertEqual(len(listed["data"]), 1)
        key_id = listed["data"][0]["id"]
        self.assertEqual(s.request("DELETE", "/v1/orgs/%s/keys/%s" % (org, key_id),
                                   key=s.root_key)[0], 204)
        self.assertEqual(s.request("GET", "/v1/leads", key=admin)[0], 401)

    def test_other_orgs_and_lesser_roles_cannot_see_or_revoke_keys(self):
        s = self.srv
        org_a, admin_a = s.org_with_key("admin")
        org_b, admin_b = s.org_with_key("admin")
        manager_a = s.make_key(org_a, "manager", key=admin_a)
        status, _, listed = s.request("GET", "/v1/orgs/%s/keys" % org_a, key=admin_a)
        some_id = listed["data"][0]["id"]
        cases = [
            (admin_b, "GET", "/v1/orgs/%s/keys" % org_a, 404, "not_found"),
            (admin_b, "DELETE", "/v1/orgs/%s/keys/%s" % (org_a, some_id), 404, "not_found"),
            (manager_a, "GET", "/v1/orgs/%s/keys" % org_a, 403, "forbidden"),
            (manager_a, "DELETE", "/v1/orgs/%s/keys/%s" % (org_a, some_id), 403, "forbidden"),
            (admin_a, "DELETE", "/v1/orgs/%s/keys/%s" % (org_a, "nothex"), 400, "invalid_id"),
            (admin_a, "DELETE", "/v1/orgs/%s/keys/%s" % (org_a, "0123456789abcdef"), 404,
             "not_found"),
            (admin_b, "DELETE", "/v1/orgs/%s/keys/%s" % (org_b, some_id), 404, "not_found"),
            (s.root_key, "GET", "/v1/orgs/0123456789abcdef/keys", 404, "not_found"),
            (admin_a, "PUT", "/v1/orgs/%s/keys" % org_a, 405, "method_not_allowed"),
        ]
        for key, method, path, code, name in cases:
            status, headers, body = s.request(method, path, key=key)
            self.assertEqual((status, body["code"]), (code, name), (method, path, body))
        # Nothing was revoked by the refused calls.
        self.assertEqual(s.request("GET", "/v1/leads", key=admin_a)[0], 200)


if __name__ == "__main__":
    unittest.main()
