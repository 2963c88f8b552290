# Bulk import and export end to end: a CSV with bad rows reports exactly
# those rows (numbers as a spreadsheet shows them) and imports the others;
# upserts by email and external_id; NDJSON; a body far over the request
# limit streams through; the import is a job; bad requests are clear 4xx
# problems that import nothing; an export (NDJSON and CSV) has every lead
# with its score and re-imports into another org; `hotlead import` shows the
# outcome and each bad row; imported rows survive kill -9.
import csv
import io
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness


def csv_text(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for r in rows:
        w.writerow(r)
    return out.getvalue()


class BulkTest(harness.OrgTestCase):
    def import_csv(self, text, query="", key=None, content_type="text/csv"):
        return self.req("POST", "/v1/leads:import" + query, raw_body=text,
                        content_type=content_type, key=key or self.key)

    def export(self, query=""):
        status, headers, body = self.req("GET", "/v1/leads:export" + query)
        self.assertEqual(status, 200, body)
        return headers, body

    def all_leads(self, key=None):
        leads, _ = self.srv.list_all(key or self.key)
        return {l["email"]: l for l in leads}

    def test_csv_with_bad_rows_reports_exactly_those_rows(self):
        text = csv_text([
            ["Email", "First Name", "Company", "Employees", "Tags", "Status"],
            ["ada@example.com", "Ada", "Analytical, Ltd", "120", "vip;emea", "Qualified"],  # 2
            ["not-an-email", "Bob", "X", "3", "", ""],                                      # 3 bad
            ["cy@example.com", "Cy", "Line\nbreak", "7", "", ""],                           # 4 bad
            ["dee@example.com", "Dee", "Dee Co", "12", "", "won"],                          # 5 bad
            ["eve@example.com", "Eve"],                                                     # 6 bad
            ["fay@example.com", "Fay", "Fay \"Quoted\" Inc", "", "", "new"],                # 7
        ])
        status, _, rep = self.import_csv(text)
        self.assertEqual(status, 200, rep)
        self.assertEqual((rep["rows"], rep["created"], rep["updated"], rep["failed"]), (6, 2, 0, 4))
        self.assertEqual([e["row"] for e in rep["errors"]], [3, 4, 5, 6])
        self.assertIn("email", rep["errors"][0]["detail"])
        self.assertIn("control characters", rep["errors"][1]["detail"])
        self.assertIn("status", rep["errors"][2]["detail"])
        self.assertEqual(rep["errors"][3]["detail"], "the row has 2 cells; the header has 6")
        self.assertFalse(rep["errors_truncated"])
        leads = self.all_leads()
        self.assertEqual(sorted(leads), ["ada@example.com", "fay@example.com"])
        ada = leads["ada@example.com"]
        self.assertEqual((ada["company"], ada["status"], ada["tags"]),
                         ("Analytical, Ltd", "qualified", ["vip", "emea"]))
        self.assertEqual(ada["attributes"], {"employees": 120})
        self.assertEqual(leads["fay@example.com"]["company"], 'Fay "Quoted" Inc')
        self.assertIn("total", ada["score"])
        # the import is a job of the org, with its counts
        status, _, job = self.req("GET", "/v1/jobs/" + rep["job"])
        self.assertEqual(status, 200, job)
        self.assertEqual((job["kind"], job["state"], job["total"], job["done"], job["rejected"]),
                         ("import", "done", 6, 6, 4))
        status, _, jobs = self.req("GET", "/v1/jobs")
        self.assertIn(rep["job"], [j["id"] for j in jobs["data"]])

    def test_upsert_by_email_and_external_id(self):
        first = csv_text([["email", "external_id", "title", "status"],
                          ["a@example.com", "crm-1", "CTO", "qualified"],
                          ["b@example.com", "crm-2", "Dev", ""],
                          ["a@example.com", "crm-1", "CEO", ""]])  # same lead twice in one file
        status, _, rep = self.import_csv(first)
        self.assertEqual((rep["created"], rep["updated"], rep["failed"]), (2, 1, 0), rep)
        leads = self.all_leads()
        self.assertEqual(len(leads), 2)
        a = leads["a@example.com"]
        self.assertEqual((a["title"], a["status"]), ("CEO", "qualified"))  # no status: kept
        second = csv_text([["external_id", "email", "company"],
                           ["crm-1", "a2@example.com", "Acme"],   # changes a's email
                           ["crm-2", "b@example.com", ""],        # nothing new
                           ["crm-3", "c@example.com", "New Co"]])
        status, _, rep = self.import_csv(second, "?upsert=external_id")
        self.assertEqual((rep["created"], rep["updated"], rep["unchanged"], rep["failed"]),
                         (1, 1, 1, 0), rep)
        leads = self.all_leads()
        self.assertEqual(sorted(leads), ["a2@example.com", "b@example.com", "c@example.com"])
        self.assertEqual(leads["a2@example.com"]["id"], a["id"])
        # the old email is free again; a row without the upsert key is refused
        third = csv_text([["email", "external_id"], ["a@example.com", ""], ["", "crm-9"]])
        status, _, rep = self.import_csv(third)
        self.assertEqual((rep["created"], rep["failed"]), (1, 1), rep)
        self.assertEqual(rep["errors"][0]["row"], 3)
        self.assertEqual(rep["errors"][0]["code"], "missing_field")

    def test_ndjson_and_a_mapping(self):
        lines = [json.dumps({"email": "n1@example.com", "attributes": {"plan": "Pro"}}),
                 "",
                 "{not json",
                 json.dumps({"email": "n2@example.com", "nickname": "x"}),
                 json.dumps({"email": "n3@example.com"})]
        status, _, rep = self.req("POST", "/v1/leads:import", raw_body="\n".join(lines) + "\n",
                                  content_type="application/x-ndjson")
        self.assertEqual(status, 200, rep)
        self.assertEqual((rep["format"], rep["rows"], rep["created"], rep["failed"]),
                         ("ndjson", 4, 2, 2))
        self.assertEqual([(e["row"], e["code"]) for e in rep["errors"]],
                         [(3, "malformed_json"), (4, "unknown_field")])
        mapping = json.dumps({"Mail": "email", "Size": "attributes.size:number", "Junk": None})
        text = csv_text([["Mail", "Size", "Junk"], ["m@example.com", "12", "zzz"],
                         ["m2@example.com", "twelve", ""]])
        status, _, rep = self.import_csv(text, "?mapping=" + urllib.parse.quote(mapping))
        self.assertEqual((rep["created"], rep["failed"]), (1, 1), rep)
        self.assertEqual(rep["errors"][0]["detail"], "column 'size': 'twelve' is not a number")
        self.assertEqual(self.all_leads()["m@example.com"]["attributes"], {"size": 12})

    def test_a_body_far_over_the_request_limit_streams_through(self):
        # 40,000 rows (~1.8 MB) against the default 1 MiB body limit
        rows = [["email", "first_name", "company", "employees"]]
        rows += [["u%05d@big.example.com" % i, "User%d" % i, "Big %d" % (i % 97), str(i % 5000)]
                 for i in range(40000)]
        text = csv_text(rows)
        self.assertGreater(len(text), 1536 * 1024)
        status, _, rep = self.import_csv(text)
        self.assertEqual(status, 200, rep)
        self.assertEqual((rep["rows"], rep["created"], rep["failed"]), (40000, 40000, 0))
        headers, body = self.export()
        self.assertEqual(headers.get("X-Total-Count"), "40000")
        self.assertEqual(len(body.strip().split("\n")), 40000)

    def test_bad_import_requests_are_clear_problems_and_import_nothing(self):
        text = csv_text([["email"], ["x@example.com"]])
        self.assertProblem(self.import_csv(text, key="hl_" + "0" * 48), 401, "unauthorized")
        self.srv.close_connections()
        viewer = self.srv.make_key(self.org, "viewer")
        self.assertProblem(self.import_csv(text, key=viewer), 403, "forbidden")
        self.srv.close_connections()
        self.assertProblem(self.import_csv(text, content_type="text/plain"), 415,
                           "unsupported_media_type")
        self.srv.close_connections()
        self.assertProblem(self.import_csv(text, "?upsert=phone"), 400, "invalid_query")
        self.srv.close_connections()
        self.assertProblem(self.import_csv(text, "?mapping=" + urllib.parse.quote('{"email":"nick"}')),
                           400, "invalid_field")
        self.srv.close_connections()
        self.assertProblem(self.import_csv(""), 400, "invalid_field")
        self.assertProblem(self.import_csv(csv_text([["email", "E-Mail"], ["a@b.co", "c@d.co"]])),
                           400, "invalid_field")
        self.assertProblem(self.req("GET", "/v1/leads:import"), 405, "method_not_allowed")
        self.assertProblem(self.req("GET", "/v1/leads:export?format=xml"), 400, "invalid_query")
        self.assertProblem(self.req("GET", "/v1/leads:export?limit=5"), 400, "invalid_query")
        self.assertEqual(self.all_leads(), {})

    def test_export_has_every_lead_with_its_score_and_reimports_elsewhere(self):
        for i in range(30):
            self.srv.create_lead(self.key, {
                "email": "x%d@example.com" % i, "company": "C, %d" % i,
                "title": "CEO" if i % 3 == 0 else "Dev", "tags": ["t%d" % (i % 2)],
                "attributes": {"employees": i * 10, "plan": "Pro" if i % 2 else "Free"},
                "status": "qualified" if i % 4 == 0 else "new"})
        lead0 = self.all_leads()["x0@example.com"]
        self.req("POST", "/v1/leads/%s/events" % lead0["id"], {"type": "demo_request"})
        stored = self.all_leads()
        _, nd = self.export()
        exported = {l["email"]: l for l in map(json.loads, nd.strip().split("\n"))}
        self.assertEqual(set(exported), set(stored))
        for email, l in exported.items():
            self.assertEqual(harness.without_read_time(l), stored[email])
        _, body = self.export("?format=csv&status=qualified")
        rows = list(csv.DictReader(io.StringIO(body)))
        self.assertEqual(len(rows), 8)
        row0 = [r for r in rows if r["email"] == "x0@example.com"][0]
        self.assertEqual(row0["score.total"], str(exported["x0@example.com"]["score"]["total"]))
        self.assertEqual(row0["attributes.employees"], "0")
        # the CSV goes into another org as the same leads (ids and scores are its own)
        _, full = self.export("?format=csv")
        org2, key2 = self.srv.org_with_key("admin")
        status, _, rep = self.import_csv(full, key=key2)
        self.assertEqual((rep["created"], rep["failed"]), (30, 0), rep)
        again = self.all_leads(key2)
        keep = ("company", "title", "tags", "attributes", "status", "email")
        for email, l in stored.items():
            self.assertEqual({k: again[email][k] for k in keep}, {k: l[k] for k in keep})

    def test_an_upload_cut_short_fails_its_job_and_keeps_the_rows_it_stored(self):
        rows = "".join("cut%d@example.com,%d\r\n" % (i, i) for i in range(3000))
        body = ("email,n\r\n" + rows).encode()
        head = harness.raw_request_bytes("POST", "/v1/leads:import", b"", {
            "Authorization": "Bearer " + self.key, "Content-Type": "text/csv",
            "Content-Length": str(len(body) * 10)})  # promises far more than it sends
        head = head[:head.rindex(b"Content-Length: 0")] + b"\r\n"
        s = self.srv.raw_socket()
        s.sendall(head + body)
        time.sleep(0.5)
        s.close()

        def job():
            _, _, jobs = self.req("GET", "/v1/jobs")
            j = [j for j in jobs["data"] if j["kind"] == "import"]
            return j[0] if j and j[0]["state"] != "running" else None
        deadline = time.time() + 30
        while not job() and time.time() < deadline:
            time.sleep(0.1)
        j = job()
        self.assertIsNotNone(j)
        self.assertEqual(j["state"], "failed")
        self.assertIn("before the body was complete", j["error"])
        stored = len(self.all_leads())
        self.assertEqual(stored, j["persisted"])
        self.assertGreaterEqual(stored, 2000)  # whole batches of what arrived

    def test_cli_import_reports_rows_and_exit_status(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "leads.csv")
            with open(path, "w", newline="") as f:
                f.write(csv_text([["email", "company"], ["cli1@example.com", "A"],
                                  ["broken", "B"], ["cli2@example.com", "C"]]))
            run = subprocess.run([harness.binary(), "import", path, "--server",
                                  "127.0.0.1:%d" % self.srv.port, "--key", self.key],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 1, run.stderr)
            self.assertIn("imported 3 rows: 2 created, 0 updated, 0 unchanged, 1 failed",
                          run.stdout)
            self.assertIn("row 3: invalid_field:", run.stdout)
            run = subprocess.run([harness.binary(), "import", path, "--server",
                                  "127.0.0.1:%d" % self.srv.port, "--key", "hl_nope"],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(run.returncode, 1)
            self.assertIn("refused the import (401)", run.stderr)
        self.assertEqual(sorted(self.all_leads()), ["cli1@example.com", "cli2@example.com"])


class BulkDurabilityTest(harness.ServerTestCase):
    def test_imported_rows_survive_kill_9(self):
        srv = harness.start_server(self)
        org, key = srv.org_with_key("admin")
        rows = [["email", "employees"]] + [["k%d@example.com" % i, str(i)] for i in range(5000)]
        status, _, rep = srv.request("POST", "/v1/leads:import", raw_body=csv_text(rows),
                                     content_type="text/csv", key=key)
        self.assertEqual((status, rep["created"]), (200, 5000), rep)
        srv.kill9()
        srv.start()
        leads, _ = srv.list_all(key)
        self.assertEqual(len(leads), 5000)
        self.assertEqual({l["attributes"]["employees"] for l in leads}, set(range(5000)))


if __name__ == "__main__":
    unittest.main()
