# The predictive conversion model: training on the org's labelled leads as a
# job, its report, activation (alone and split A/B), the probability and
# its factors in every score, persistence across a restart, and the clear
# errors of bad requests and of leads that cannot make a model.
import csv
import io
import math
import random

import harness


def dataset(n, seed, plan=False):
    """Leads whose outcome follows their size: big companies convert. About
    a third are still open (status new: unlabelled). With `plan`, an
    attribute that repeats the outcome (a label of its own)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        employees = rnd.choice([5, 20, 50, 200, 800, 3000, 10000])
        big = employees >= 200
        p = 0.9 if big else 0.05
        outcome = "converted" if rnd.random() < p else "lost"
        status = "new" if i % 3 == 0 else outcome
        row = {"email": "p%d@corp%d.example" % (i, i), "source": rnd.choice(["web", "ads"]),
               "status": status, "employees": employees}
        if plan:
            row["plan"] = "won" if outcome == "converted" else "gone"
        rows.append(row)
    return rows


def as_csv(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0].keys()), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def logit(p):
    return math.log(p / (1 - p))


class PredictiveTest(harness.OrgTestCase):
    def fill(self, n=900, seed=7, plan=False):
        rows = dataset(n, seed, plan)
        res = self.req("POST", "/v1/leads:import", raw_body=as_csv(rows), content_type="text/csv")
        report = self.assertStatus(res, 200)
        self.assertEqual(report["created"], n, report)
        leads, _ = self.srv.list_all(self.key)
        return {l["email"]: l for l in leads}

    def train(self, body=None):
        res = self.req("POST", "/v1/models:train", body)
        job = self.assertStatus(res, 202)
        self.assertEqual(job["kind"], "train")
        self.assertEqual(res[1]["Location"], "/v1/jobs/" + job["id"])
        done = self.srv.wait_job(self.key, job["id"])
        self.assertEqual(done["state"], "done", done)
        return done

    def score(self, lead_id):
        return self.assertStatus(self.req("GET", "/v1/leads/%s/score" % lead_id), 200)

    def test_train_activate_and_score(self):
        leads = self.fill()
        labelled = sum(1 for l in leads.values() if l["status"] in ("converted", "lost"))
        some = next(iter(leads.values()))
        self.assertIsNone(self.score(some["id"])["probability"])

        job = self.train()
        model = job["result"]
        self.assertEqual(model["version"], 1)
        self.assertFalse(model["active"])
        self.assertEqual(model["label"], {"field": "status", "positive": ["converted"],
                                          "negative": ["lost"]})
        report = model["report"]
        self.assertEqual(report["examples"], labelled)
        self.assertEqual(job["total"], labelled)
        self.assertEqual(report["train"] + report["holdout"], labelled)
        self.assertGreater(report["holdout"], 0)
        self.assertGreater(report["auc"], 0.8, report)
        self.assertLess(report["log_loss"], 0.6, report)
        names = [f["name"] for f in model["features"]]
        # employees runs from 5 to 10,000: taken as log(1 + x)
        self.assertIn("log1p(attributes.employees)", names)
        self.assertIn("source", names)
        self.assertNotIn("status", names)
        self.assertEqual(report["top_weights"][0]["feature"], "log1p(attributes.employees)",
                         report)

        listed = self.assertStatus(self.req("GET", "/v1/models"), 200)
        self.assertIsNone(listed["active"])
        self.assertEqual([m["version"] for m in listed["data"]], [1])
        self.assertNotIn("model", listed["data"][0])
        full = self.assertStatus(self.req("GET", "/v1/models/1"), 200)
        self.assertEqual(full["model"]["type"], "logistic_regression")

        res = self.req("POST", "/v1/models/1:activate")
        self.assertEqual(self.assertStatus(res, 200), {"active": {"version": 1, "split": None}})

        # Every lead now has a probability, explained by its factors.
        small = next(l for l in leads.values() if l["attributes"]["employees"] == 5)
        big = next(l for l in leads.values() if l["attributes"]["employees"] == 10000)
        ps = {}
        for lead in (small, big):
            s = self.score(lead["id"])
            p = s["probability"]
            self.assertTrue(0 < p < 1, s)
            self.assertEqual(s["predictive_model"], {"version": 1, "arm": None})
            pred = [f for f in s["factors"] if f["kind"] == "predictive"]
            self.assertEqual(pred[0]["name"], "(intercept)")
            self.assertIn("log1p(attributes.employees)", [f["name"] for f in pred])
            # a category's factor names its value
            self.assertIn("source=" + lead["source"], [f["name"] for f in pred])
            self.assertAlmostEqual(sum(f["points"] for f in pred), logit(p),
                                   delta=0.005 * len(pred) + 1e-9)
            # the rule factors still add up to the rule score
            self.assertAlmostEqual(sum(f["points"] for f in s["factors"] if f["kind"] == "fit"),
                                   s["fit"], places=2)
            ps[lead["id"]] = p
        self.assertGreater(ps[big["id"]], ps[small["id"]] + 0.3)

        # Lead reads, list pages, writes and stateless scoring carry it too.
        got = self.assertStatus(self.req("GET", "/v1/leads/" + big["id"]), 200)
        self.assertEqual(got["score"]["probability"], ps[big["id"]])
        res = self.req("POST", "/v1/leads/%s/events" % big["id"], {"type": "page_view"})
        self.assertIsNotNone(self.assertStatus(res, 201)["score"]["probability"])
        res = self.req("POST", "/v1/score", {"lead": {"attributes": {"employees": 10000}}})
        stateless = self.assertStatus(res, 200)
        self.assertGreater(stateless["probability"], 0.5)
        export = self.req("GET", "/v1/leads:export?format=csv")[2]
        header = export.splitlines()[0].split(",")
        self.assertIn("score.probability", header)

        # A restart keeps the model, the activation and the probabilities.
        self.srv.stop()
        self.srv.start()
        for lead_id, p in ps.items():
            self.assertEqual(self.score(lead_id)["probability"], p)
        self.assertEqual(self.assertStatus(self.req("GET", "/v1/models"), 200)["active"],
                         {"version": 1, "split": None})

        # Deactivated: no probability again.
        res = self.req("POST", "/v1/models:deactivate")
        self.assertEqual(self.assertStatus(res, 200), {"active": None})
        self.assertIsNone(self.score(big["id"])["probability"])

    def test_ab_split_and_custom_label(self):
        leads = self.fill(n=300, seed=11, plan=True)
        self.train()
        # Version 2: a label on an attribute, and a feature list.
        job = self.train({"label": {"field": "attributes.plan", "positive": "won",
                                    "negative": ["gone"]},
                          "features": ["source", "attributes.employees"], "holdout": 0.3})
        model = job["result"]
        self.assertEqual(model["version"], 2)
        self.assertEqual([f["name"] for f in model["features"]],
                         ["source", "log1p(attributes.employees)"])
        self.assertEqual(model["report"]["examples"], 300)  # every lead has a plan
        self.assertEqual(model["options"]["holdout"], 0.3)

        res = self.req("POST", "/v1/models/1:activate", {"split": {"version": 2, "percent": 40}})
        self.assertEqual(self.assertStatus(res, 200),
                         {"active": {"version": 1, "split": {"version": 2, "percent": 40}}})
        arms = {}
        for lead in leads.values():
            s = self.score(lead["id"])
            pm = s["predictive_model"]
            self.assertEqual(pm["version"], 1 if pm["arm"] == "A" else 2, s)
            arms[lead["id"]] = pm["arm"]
        b = sum(1 for a in arms.values() if a == "B")
        self.assertTrue(0.25 * len(arms) < b < 0.55 * len(arms), b)
        for lead_id in list(arms)[:20]:  # stable
            self.assertEqual(self.score(lead_id)["predictive_model"]["arm"], arms[lead_id])
        listed = self.assertStatus(self.req("GET", "/v1/models"), 200)
        self.assertEqual([(m["version"], m["active"], m["arm"]) for m in listed["data"]],
                         [(1, True, "A"), (2, True, "B")])

    def test_leads_that_cannot_make_a_model(self):
        res = self.req("POST", "/v1/models:train")
        body = self.assertProblem(res, 422, "cannot_train")
        self.assertIn("no lead of this org is labelled", body["detail"])
        for i in range(5):
            self.srv.create_lead(self.key, {"email": "w%d@x.example" % i, "status": "converted"})
        body = self.assertProblem(self.req("POST", "/v1/models:train"), 422, "cannot_train")
        self.assertIn("all 5 labelled leads are positive", body["detail"])
        self.assertEqual(self.assertStatus(self.req("GET", "/v1/models"), 200)["data"], [])
        jobs = self.assertStatus(self.req("GET", "/v1/jobs"), 200)["data"]
        self.assertTrue(all(j["state"] == "failed" for j in jobs if j["kind"] == "train"), jobs)

    def test_bad_requests_change_nothing(self):
        self.fill(n=60, seed=3)
        cases = [
            ({"features": ["nope"]}, 400, "invalid_field", "features[0]"),
            ({"features": "some"}, 400, "invalid_field", "features"),
            ({"features": ["status"]}, 400, "invalid_field", "label"),
            ({"label": {"field": "events.page_view", "positive": "1", "negative": "0"}},
             400, "invalid_field", "label.field"),
            ({"label": {"field": "status", "positive": "converted"}}, 400, None, "negative"),
            ({"label": {"field": "status", "positive": "won", "negative": "WON"}},
             400, "invalid_field", "WON"),
            ({"holdout": 0.95}, 400, "invalid_field", "holdout"),
            ({"max_levels": 0}, 400, "invalid_field", "max_levels"),
            ({"epochs": 3}, 400, "unknown_field", "epochs"),
        ]
        for body, status, code, mention in cases:
            res = self.req("POST", "/v1/models:train", body)
            self.assertEqual(res[0], status, (body, res[2]))
            if code:
                self.assertProblem(res, status, code, msg=str(body))
            self.assertIn(mention, res[2]["detail"], (body, res[2]))
        res = self.req("POST", "/v1/models:train", raw_body="{", content_type="application/json")
        self.assertProblem(res, 400, "malformed_json")
        res = self.req("POST", "/v1/models:train", raw_body="x", content_type="text/plain")
        self.assertProblem(res, 415, "unsupported_media_type")
        self.assertProblem(self.req("POST", "/v1/models/1:activate"), 404, "not_found")
        self.assertProblem(self.req("GET", "/v1/models/1"), 404, "not_found")
        self.assertProblem(self.req("GET", "/v1/models/x"), 400, "invalid_id")
        self.train()
        for body, code in [({"split": {"version": 1, "percent": 50}}, "invalid_field"),
                           ({"split": {"version": 2, "percent": 0}}, "invalid_field"),
                           ({"split": {"version": 2}}, "missing_field"),
                           ({"split": {"version": 9, "percent": 10}}, "not_found"),
                           ({"spilt": 1}, "unknown_field")]:
            res = self.req("POST", "/v1/models/1:activate", body)
            self.assertProblem(res, 404 if code == "not_found" else 400, code, msg=str(body))
        listed = self.assertStatus(self.req("GET", "/v1/models"), 200)
        self.assertIsNone(listed["active"])
        self.assertEqual(len(listed["data"]), 1)

    def test_only_admins_train_and_activate(self):
        self.fill(n=60, seed=5)
        key = self.srv.make_key(self.org, "viewer")
        self.assertProblem(self.req("POST", "/v1/models:train", key=key), 403, "forbidden")
        self.assertProblem(self.req("POST", "/v1/models:deactivate", key=key), 403, "forbidden")
        self.assertStatus(self.req("GET", "/v1/models", key=key), 200)


if __name__ == "__main__":
    harness.unittest.main()
