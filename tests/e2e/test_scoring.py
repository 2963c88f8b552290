# Scoring end to end: events and field changes re-score their lead before
# the write is answered and the answer carries the score; factors add up to
# fit, engagement and total; the score history names each change's cause;
# a bad model is a 422 naming rule and field and changes nothing; preview
# changes nothing; activating a version re-scores every lead as a job while
# reads keep succeeding, rebuilds changed engagement rules from stored
# events, and survives a restart (and a kill -9 right after activation);
# POST /v1/score scores a payload without storing it.
import copy
import threading
import unittest

import harness

# A model whose arithmetic a test can follow: no decay, no caps.
MODEL = {
    "fit": [
        {"id": "ceo", "field": "title", "op": "equals", "value": "CEO", "points": 40},
        {"id": "big", "field": "attributes.employees", "op": "range", "min": 1000,
         "points": 20},
        {"id": "vip", "field": "tags", "op": "in", "values": ["vip"], "points": 5},
    ],
    "engagement": [
        {"id": "demo", "event": "demo_request", "points": 30},
        {"id": "view", "event": "page_view", "points": 2},
        {"id": "pricing", "event": "page_view", "where": {"property": "path", "op": "equals",
                                                           "value": "/pricing"}, "points": 5},
    ],
    "grades": {"A": 80, "B": 60, "C": 30},
    "bounds": {"min": 0, "max": 100},
}


def points_sum(score, kind):
    return round(sum(f["points"] for f in score["factors"] if f["kind"] == kind), 2)


class ScoringTest(harness.OrgTestCase):
    def put_model(self, model):
        status, _, body = self.req("PUT", "/v1/scoring-model", model)
        self.assertEqual(status, 201, body)
        return body["version"]

    def activate(self, version, key=None):
        status, headers, job = self.req("POST", "/v1/scoring-model/%d:activate" % version,
                                        key=key or self.key)
        self.assertEqual(status, 202, job)
        self.assertEqual(headers.get("Location"), "/v1/jobs/" + job["id"])
        return job

    def wait_job(self, job_id, timeout=60):
        return self.srv.wait_job(self.key, job_id, timeout)

    def use(self, model):
        job = self.activate(self.put_model(model))
        return self.wait_job(job["id"])

    def event(self, lead_id, type_, **props):
        body = {"type": type_}
        if props:
            body["properties"] = props
        status, _, ev = self.req("POST", "/v1/leads/%s/events" % lead_id, body)
        self.assertEqual(status, 201, ev)
        return ev

    def assertAddsUp(self, score):
        self.assertEqual(points_sum(score, "fit"), score["fit"], score)
        self.assertEqual(points_sum(score, "engagement"), score["engagement"], score)
        bound = points_sum(score, "bound")
        self.assertEqual(round(score["fit"] + score["engagement"] + bound, 2), score["total"],
                         score)

    # -- real time ------------------------------------------------------------------

    def test_events_and_field_changes_move_the_score_and_answers_carry_it(self):
        self.use(MODEL)
        lead = self.srv.create_lead(self.key, {"title": "CEO", "tags": ["vip"]})
        self.assertEqual(lead["score"]["fit"], 45)
        self.assertEqual(lead["score"]["total"], 45)
        self.assertEqual(lead["score"]["model_version"], 2)
        self.assertIsNone(lead["score"]["probability"])
        ev = self.event(lead["id"], "page_view", path="/pricing")
        self.assertEqual(ev["score"]["engagement"], 7)  # view 2 + pricing 5
        self.assertEqual(ev["score"]["total"], 52)
        self.assertEqual({f["name"] for f in ev["score"]["factors"]},
                         {"ceo", "vip", "view", "pricing"})
        ev = self.event(lead["id"], "demo_request")
        self.assertEqual(ev["score"]["total"], 82)
        self.assertEqual(ev["score"]["grade"], "A")
        status, _, patched = self.req("PATCH", "/v1/leads/" + lead["id"],
                                      {"attributes": {"employees": 5000}})
        self.assertEqual(status, 200, patched)
        self.assertEqual(patched["score"]["fit"], 65)
        self.assertEqual(patched["score"]["total"], 100)  # 65 + 37 = 102, clamped
        self.assertIn({"kind": "bound", "name": "max", "points": -2},
                      patched["score"]["factors"])
        self.assertAddsUp(patched["score"])
        # Reads agree with the answers.
        got = self.srv.get_lead(self.key, lead["id"])
        self.assertEqual(got["score"], patched["score"])
        status, _, score = self.req("GET", "/v1/leads/%s/score" % lead["id"])
        self.assertEqual(status, 200, score)
        self.assertEqual(score["total"], 100)
        self.assertRegex(score["computed_at"], harness.TIME_RE)
        # The history, newest first, names each cause.
        status, _, hist = self.req("GET", "/v1/leads/%s/score/history" % lead["id"])
        self.assertEqual(status, 200, hist)
        causes = [(h["cause"], h["detail"], h["total"], h["delta"]) for h in hist["data"]]
        self.assertEqual(causes, [("field_change", "attributes.employees", 100, 18),
                                  ("event", "demo_request", 82, 30),
                                  ("event", "page_view", 52, 7),
                                  ("created", "", 45, 45)])

    def test_factors_add_up_on_many_leads(self):
        self.use(MODEL)
        ids = []
        for i in range(40):
            lead = self.srv.create_lead(self.key, {
                "title": "CEO" if i % 3 == 0 else "Engineer",
                "tags": ["vip"] if i % 4 == 0 else [],
                "attributes": {"employees": i * 100}})
            for j in range(i % 5):
                self.event(lead["id"], "page_view", path="/pricing" if j % 2 else "/")
            if i % 7 == 0:
                self.event(lead["id"], "demo_request")
            ids.append(lead["id"])
        leads, _ = self.srv.list_all(self.key)
        self.assertEqual(len(leads), 40)
        for lead in leads:
            self.assertAddsUp(lead["score"])
            self.assertLessEqual(lead["score"]["total"], 100)

    def test_stateless_scoring_matches_a_stored_lead_and_stores_nothing(self):
        self.use(MODEL)
        fields = {"title": "CEO", "attributes": {"employees": 2000}}
        events = [{"type": "page_view", "properties": {"path": "/pricing"}},
                  {"type": "demo_request"}]
        status, _, score = self.req("POST", "/v1/score", {"lead": fields, "events": events})
        self.assertEqual(status, 200, score)
        self.assertEqual(score["total"], 97)
        self.assertAddsUp(score)
        self.assertEqual(self.srv.list_all(self.key)[0], [], "POST /v1/score stored a lead")
        lead = self.srv.create_lead(self.key, fields)
        for e in events:
            last = self.event(lead["id"], e["type"], **e.get("properties", {}))
        self.assertEqual(last["score"]["total"], score["total"])
        self.assertEqual(sorted(f["name"] for f in last["score"]["factors"]),
                         sorted(f["name"] for f in score["factors"]))
        # Bad input is a clear 4xx.
        self.assertProblem(self.req("POST", "/v1/score", {"lead": {"emial": "x"}}), 400,
                           "unknown_field")
        self.assertProblem(self.req("POST", "/v1/score", {"events": [{"properties": {}}]}), 400,
                           "missing_field")
        self.assertProblem(self.req("POST", "/v1/score", {"lead": [], "events": []}), 400,
                           "invalid_field")

    # -- models ---------------------------------------------------------------------

    def test_a_new_org_has_the_default_model_as_version_1(self):
        status, _, m = self.req("GET", "/v1/scoring-model")
        self.assertEqual(status, 200, m)
        self.assertEqual(m["version"], 1)
        self.assertTrue(m["active"])
        self.assertTrue(any(r["id"] == "demo-request" for r in m["model"]["engagement"]))
        status, _, vs = self.req("GET", "/v1/scoring-model/versions")
        self.assertEqual(status, 200, vs)
        self.assertEqual(vs["active"], 1)
        self.assertEqual([v["version"] for v in vs["data"]], [1])

    def test_a_bad_model_is_422_naming_rule_and_field_and_changes_nothing(self):
        bad = copy.deepcopy(MODEL)
        bad["engagement"][1]["points"] = "many"
        res = self.req("PUT", "/v1/scoring-model", bad)
        self.assertProblem(res, 422, "invalid_model")
        self.assertIn('engagement[1] ("view")', res[2]["detail"])
        self.assertIn("points", res[2]["detail"])
        bad = copy.deepcopy(MODEL)
        bad["fit"][0]["op"] = "resembles"
        res = self.req("PUT", "/v1/scoring-model", bad)
        self.assertProblem(res, 422, "invalid_model")
        self.assertIn('fit[0] ("ceo")', res[2]["detail"])
        self.assertProblem(self.req("PUT", "/v1/scoring-model", raw_body=b"{"), 400,
                           "malformed_json")
        status, _, vs = self.req("GET", "/v1/scoring-model/versions")
        self.assertEqual([v["version"] for v in vs["data"]], [1])
        self.assertProblem(self.req("POST", "/v1/scoring-model/7:activate"), 404, "not_found")
        self.assertProblem(self.req("POST", "/v1/scoring-model/x:activate"), 400, "invalid_id")
        self.assertProblem(self.req("GET", "/v1/jobs/00000000000000ff"), 404, "not_found")

    def test_only_admins_change_the_model_and_everyone_reads_it(self):
        viewer = self.srv.make_key(self.org, "viewer")
        status, _, _ = self.req("GET", "/v1/scoring-model", key=viewer)
        self.assertEqual(status, 200)
        self.assertProblem(self.req("PUT", "/v1/scoring-model", MODEL, key=viewer), 403,
                           "forbidden")
        self.assertProblem(self.req("POST", "/v1/scoring-model/1:activate", key=viewer), 403,
                           "forbidden")

    def test_preview_compares_without_changing_anything(self):
        self.use(MODEL)
        for title in ["CEO", "CEO", "Engineer"]:
            self.srv.create_lead(self.key, {"title": title})
        proposed = copy.deepcopy(MODEL)
        proposed["fit"][0]["points"] = 70
        status, _, p = self.req("POST", "/v1/scoring-model:preview", proposed)
        self.assertEqual(status, 200, p)
        self.assertEqual(p["leads"], 3)
        self.assertEqual(p["current"]["grades"], {"A": 0, "B": 0, "C": 2, "D": 1})
        self.assertEqual(p["proposed"]["grades"], {"A": 0, "B": 2, "C": 0, "D": 1})
        self.assertEqual(p["grade_changes"], 2)
        self.assertEqual(sum(b["leads"] for b in p["proposed"]["histogram"]), 3)
        status, _, vs = self.req("GET", "/v1/scoring-model/versions")
        self.assertEqual(vs["active"], 2)
        self.assertEqual(len(vs["data"]), 2)
        leads, _ = self.srv.list_all(self.key)
        self.assertEqual(sorted(l["score"]["total"] for l in leads), [0, 40, 40])

    # -- re-scoring -----------------------------------------------------------------

    def test_activation_rescores_every_lead_while_reads_succeed_and_survives_a_restart(self):
        self.use(MODEL)
        ids = []
        for i in range(300):
            lead = self.srv.create_lead(self.key, {"title": "CEO" if i % 2 else "CTO"})
            ids.append(lead["id"])
        for lead_id in ids[:50]:
            self.event(lead_id, "page_view", path="/pricing")
        proposed = copy.deepcopy(MODEL)
        proposed["fit"][0]["points"] = 50  # ceo 40 -> 50
        # A new engagement rule on an event the leads already had: rebuilt
        # from their stored events.
        proposed["engagement"].append({"id": "any-view", "event": "page_view", "points": 1})
        version = self.put_model(proposed)

        errors, reads, stop = [], [0], threading.Event()

        def reader():
            conn_key = self.key
            i = 0
            while not stop.is_set():
                status, _, body = self.srv.request("GET", "/v1/leads/" + ids[i % len(ids)],
                                                   key=conn_key)
                if status != 200:
                    errors.append((status, body))
                reads[0] += 1
                i += 7

        t = threading.Thread(target=reader)
        t.start()
        try:
            job = self.wait_job(self.activate(version)["id"])
        finally:
            stop.set()
            t.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(reads[0], 0)
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["total"], 300)
        self.assertEqual(job["done"], 300)
        self.assertEqual(job["persisted"], 300)
        self.assertEqual(job["replayed"], 50)

        def expected(i):
            fit = 50 if i % 2 else 0
            return fit + (8 if i < 50 else 0)

        def check():
            for i, lead_id in enumerate(ids):
                lead = self.srv.get_lead(self.key, lead_id)
                self.assertEqual(lead["score"]["model_version"], version)
                self.assertEqual(lead["score"]["total"], expected(i), lead)
        check()
        status, _, hist = self.req("GET", "/v1/leads/%s/score/history" % ids[1])
        self.assertEqual(hist["data"][0]["cause"], "model_change")
        self.assertEqual(hist["data"][0]["detail"], "version %d" % version)
        self.srv.stop()
        self.srv.start()
        check()
        status, _, vs = self.req("GET", "/v1/scoring-model/versions")
        self.assertEqual(vs["active"], version)

    def test_a_kill_9_right_after_activation_still_ends_on_the_new_version(self):
        self.use(MODEL)
        ids = [self.srv.create_lead(self.key, {"title": "CEO"})["id"] for _ in range(200)]
        proposed = copy.deepcopy(MODEL)
        proposed["fit"][0]["points"] = 11
        version = self.put_model(proposed)
        self.activate(version)  # acknowledged: the activation is durable
        self.srv.kill9()
        self.srv.start()
        for lead_id in ids:
            lead = self.srv.get_lead(self.key, lead_id)
            self.assertEqual(lead["score"]["total"], 11, lead)
            self.assertEqual(lead["score"]["model_version"], version)

    def test_rescored_leads_keep_scores_and_history_through_writes_and_kill_9(self):
        # A re-score stores each lead's score state apart from its record
        # (keys.hpp 'R'); events on top of it, a patch that rewrites the
        # record, a delete, a second re-score and two kill -9s must all
        # recover to exactly what was acknowledged, without redoing the
        # re-score (its history entry appears once).
        self.use(MODEL)
        ids = [self.srv.create_lead(self.key, {"title": "CEO" if i % 2 else "CTO",
                                               "attributes": {"employees": 50 * i}})["id"]
               for i in range(40)]
        for lead_id in ids[::3]:
            self.event(lead_id, "demo_request")
        proposed = copy.deepcopy(MODEL)
        proposed["fit"][0]["points"] = 45
        v2 = self.put_model(proposed)
        self.assertEqual(self.wait_job(self.activate(v2)["id"])["state"], "done")
        for lead_id in ids[0:10]:  # events on top of the score record
            self.event(lead_id, "page_view", path="/pricing")
        for lead_id in ids[10:20]:  # the record is rewritten whole
            status, _, body = self.req("PATCH", "/v1/leads/" + lead_id, {"tags": ["vip"]})
            self.assertEqual(status, 200, body)
        for lead_id in ids[20:25]:
            status, _, body = self.req("DELETE", "/v1/leads/" + lead_id)
            self.assertEqual(status, 204, body)
        gone, kept = ids[20:25], ids[:20] + ids[25:]

        def snapshot():
            out = {}
            for lead_id in kept:
                s = self.srv.get_lead(self.key, lead_id)["score"]
                status, _, hist = self.req("GET", "/v1/leads/%s/score/history" % lead_id)
                self.assertEqual(status, 200, hist)
                out[lead_id] = ({k: s[k] for k in ("total", "fit", "engagement", "grade",
                                                    "model_version", "factors")},
                                hist["data"])
            return out

        def assert_recovered(before, version):
            after = snapshot()
            for lead_id in kept:
                self.assertEqual(after[lead_id], before[lead_id], lead_id)
                self.assertEqual(after[lead_id][0]["model_version"], version)
                changes = [h for h in after[lead_id][1] if h["cause"] == "model_change"
                           and h["detail"] == "version %d" % version]
                self.assertLessEqual(len(changes), 1, after[lead_id][1])
            for lead_id in gone:
                status, _, _ = self.req("GET", "/v1/leads/" + lead_id)
                self.assertEqual(status, 404)

        before = snapshot()
        self.assertEqual(before[ids[3]][0]["total"], 45 + 30 + 2 + 5)  # CEO, demo, pricing view
        self.assertEqual(before[ids[11]][0]["total"], 45 + 5)  # CEO, vip
        self.srv.kill9()
        self.srv.start()
        assert_recovered(before, v2)

        # A second re-score over score records, then another kill -9.
        proposed["engagement"][0]["points"] = 31
        v3 = self.put_model(proposed)
        self.assertEqual(self.wait_job(self.activate(v3)["id"])["state"], "done")
        before = snapshot()
        self.assertEqual(before[ids[3]][0]["total"], 45 + 31 + 2 + 5)
        self.srv.kill9()
        self.srv.start()
        assert_recovered(before, v3)


if __name__ == "__main__":
    unittest.main()
