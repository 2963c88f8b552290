# Leads end to end: create (201 + Location), get, patch (null clears a field,
# null removes an attribute, tags replace), delete (204, then 404), upsert by
# email and by external_id (200 vs 201), 409 duplicates (email compared
# case-insensitively), email normalization, events (counters, activity,
# ts as ISO and epoch ms) and events:batch (JSON array and NDJSON) with
# per-item errors reported by index while the good items are recorded.
import calendar
import json
import secrets
import time
import unittest

import harness
from harness import ID_RE, TIME_RE


def iso_ms(text):
    """Epoch ms of an answer time like 2026-11-22T03:04:05.123Z."""
    base = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    return base * 1000 + int(text[20:23])


def uniq(prefix="lead"):
    return "%s-%s" % (prefix, secrets.token_hex(5))


class LeadsTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.start_server(cls)
        cls.org, cls.key = cls.srv.org_with_key("admin")

    def req(self, method, path, body=None, **kw):
        kw.setdefault("key", self.key)
        return self.srv.request(method, path, body, **kw)

    def create(self, **fields):
        return self.srv.create_lead(self.key, fields)

    def count(self):
        leads, _ = self.srv.list_all(self.key)
        return len(leads)

    # -- CRUD -----------------------------------------------------------------------

    def test_create_answers_201_with_location_and_the_whole_lead(self):
        body = {"email": uniq("ada") + "@example.com", "external_id": uniq("crm"),
                "first_name": "Ada", "last_name": "Lovelace", "company": "Analytical",
                "title": "CTO", "phone": "+44 (20) 7946-0958 x12", "source": "webinar",
                "status": "contacted", "owner": "grace", "tags": ["vip", "eu"],
                "attributes": {"score": 42, "ratio": 0.5, "newsletter": True, "plan": "pro"}}
        status, headers, lead = self.req("POST", "/v1/leads", body)
        self.assertEqual(status, 201, lead)
        self.assertTrue(headers.get("Content-Type", "").startswith("application/json"))
        self.assertRegex(lead["id"], ID_RE)
        self.assertEqual(headers.get("Location"), "/v1/leads/" + lead["id"])
        self.assertEqual(lead["org_id"], self.org)
        for k, v in body.items():
            self.assertEqual(lead[k], v, k)
        self.assertRegex(lead["created_at"], TIME_RE)
        self.assertEqual(lead["updated_at"], lead["created_at"])
        self.assertIsNone(lead["last_activity_at"])
        self.assertEqual(lead["activity"], {"events": 0, "by_type": {}})
        self.assertLess(abs(iso_ms(lead["created_at"]) - time.time() * 1000), 120000)
        status, _, got = self.req("GET", headers["Location"])
        self.assertEqual(status, 200)
        self.assertEqual(got, lead)

    def test_create_with_only_defaults_has_status_new_and_null_fields(self):
        status, headers, lead = self.req("POST", "/v1/leads", {})
        self.assertEqual(status, 201, lead)
        self.assertEqual(lead["status"], "new")
        for f in ("email", "external_id", "first_name", "last_name", "company", "title",
                  "phone", "source", "owner"):
            self.assertIsNone(lead[f], f)
        self.assertEqual(lead["tags"], [])
        self.assertEqual(lead["attributes"], {})

    def test_patch_changes_only_the_given_fields_and_null_clears(self):
        lead = self.create(email=uniq("p") + "@example.com", first_name="Ann", company="Acme",
                           phone="555-0100", source="ads", owner="bob", tags=["a", "b"],
                           attributes={"keep": "yes", "drop": 1, "change": False})
        time.sleep(0.005)
        patch = {"first_name": "Anna", "company": None, "phone": None, "status": "qualified",
                 "tags": ["c"], "attributes": {"drop": None, "change": True, "added": 2.5}}
        status, _, got = self.req("PATCH", "/v1/leads/" + lead["id"], patch)
        self.assertEqual(status, 200, got)
        self.assertEqual(got["first_name"], "Anna")
        self.assertIsNone(got["company"])
        self.assertIsNone(got["phone"])
        self.assertEqual(got["status"], "qualified")
        self.assertEqual(got["tags"], ["c"])
        self.assertEqual(got["attributes"], {"keep": "yes", "change": True, "added": 2.5})
        # Untouched fields keep their values.
        for f in ("id", "org_id", "email", "source", "owner", "created_at", "external_id"):
            self.assertEqual(got[f], lead[f], f)
        self.assertGreater(got["updated_at"], lead["updated_at"])
        self.assertEqual(self.srv.get_lead(self.key, lead["id"]), got)

    def test_patch_tags_null_empties_the_list_and_removing_a_missing_attribute_is_fine(self):
        lead = self.create(tags=["x", "y"], attributes={"a": 1})
        status, _, got = self.req("PATCH", "/v1/leads/" + lead["id"],
                                  {"tags": None, "attributes": {"nope": None}})
        self.assertEqual(status, 200, got)
        self.assertEqual(got["tags"], [])
        self.assertEqual(got["attributes"], {"a": 1})

    def test_an_empty_patch_answers_the_unchanged_lead(self):
        lead = self.create(first_name="Same")
        status, _, got = self.req("PATCH", "/v1/leads/" + lead["id"], {})
        self.assertEqual(status, 200, got)
        self.assertEqual(got, lead)

    def test_delete_answers_204_then_the_lead_is_404_everywhere(self):
        email = uniq("del") + "@example.com"
        lead = self.create(email=email, external_id=uniq("x"))
        self.assertStatus(self.req("POST", "/v1/leads/%s/events" % lead["id"],
                                   {"type": "page_view"}), 201)
        status, headers, body = self.req("DELETE", "/v1/leads/" + lead["id"])
        self.assertEqual(status, 204, body)
        self.assertEqual(body, "")
        path = "/v1/leads/" + lead["id"]
        self.assertProblem(self.req("GET", path), 404, "not_found")
        self.assertProblem(self.req("DELETE", path), 404, "not_found")
        self.assertProblem(self.req("PATCH", path, {"first_name": "x"}), 404, "not_found")
        self.assertProblem(self.req("POST", path + "/events", {"type": "x"}), 404, "not_found")
        leads, _ = self.srv.list_all(self.key)
        self.assertNotIn(lead["id"], [l["id"] for l in leads])
        # Its email and external_id are free again; the new lead has no old events.
        again = self.create(email=email, external_id=lead["external_id"])
        self.assertNotEqual(again["id"], lead["id"])
        self.assertEqual(again["activity"]["events"], 0)

    def test_a_missing_lead_answers_404_not_found(self):
        self.assertProblem(self.req("GET", "/v1/leads/00000000000000ff"), 404, "not_found")
        self.assertProblem(self.req("PATCH", "/v1/leads/00000000000000ff", {"title": "x"}),
                           404, "not_found")

    # -- upsert and duplicates -----------------------------------------------------------

    def test_upsert_by_email_creates_with_201_then_updates_with_200(self):
        email = uniq("up") + "@example.com"
        status, headers, first = self.req("POST", "/v1/leads?upsert=email",
                                          {"email": email, "first_name": "One", "title": "T"})
        self.assertEqual(status, 201, first)
        self.assertEqual(headers.get("Location"), "/v1/leads/" + first["id"])
        n = self.count()
        status, headers, second = self.req("POST", "/v1/leads?upsert=email",
                                           {"email": email.upper(), "first_name": "Two",
                                            "attributes": {"k": 1}})
        self.assertEqual(status, 200, second)
        self.assertEqual(second["id"], first["id"])
        self.assertEqual(second["first_name"], "Two")
        self.assertEqual(second["title"], "T")  # patch semantics: untouched stays
        self.assertEqual(second["attributes"], {"k": 1})
        self.assertEqual(second["email"], email)
        self.assertEqual(self.count(), n)

    def test_upsert_by_external_id_creates_with_201_then_updates_with_200(self):
        ext = uniq("crm")
        status, _, first = self.req("POST", "/v1/leads?upsert=external_id",
                                    {"external_id": ext, "company": "A"})
        self.assertEqual(status, 201, first)
        status, _, second = self.req("POST", "/v1/leads?upsert=external_id",
                                     {"external_id": ext, "company": "B", "status": "lost"})
        self.assertEqual(status, 200, second)
        self.assertEqual(second["id"], first["id"])
        self.assertEqual(second["company"], "B")
        self.assertEqual(second["status"], "lost")
        self.assertEqual(self.srv.get_lead(self.key, first["id"]), second)

    def test_upsert_without_the_matching_field_is_400_missing_field(self):
        n = self.count()
        self.assertProblem(self.req("POST", "/v1/leads?upsert=email", {"first_name": "x"}),
                           400, "missing_field")
        self.assertProblem(self.req("POST", "/v1/leads?upsert=external_id",
                                    {"email": uniq() + "@example.com"}), 400, "missing_field")
        self.assertEqual(self.count(), n)

    def test_upsert_with_an_unknown_mode_is_400_invalid_query(self):
        self.assertProblem(self.req("POST", "/v1/leads?upsert=phone", {"phone": "1"}),
                           400, "invalid_query")

    def test_duplicate_email_is_409_even_in_another_case(self):
        email = uniq("dup") + "@example.com"
        first = self.create(email=email)
        n = self.count()
        body = self.assertProblem(self.req("POST", "/v1/leads", {"email": email.upper()}),
                                  409, "duplicate_email")
        self.assertEqual(body["instance"], "/v1/leads")
        self.assertEqual(self.count(), n)
        self.assertEqual(self.srv.get_lead(self.key, first["id"]), first)

    def test_duplicate_external_id_is_409(self):
        ext = uniq("ext")
        self.create(external_id=ext)
        n = self.count()
        self.assertProblem(self.req("POST", "/v1/leads", {"external_id": ext}), 409,
                           "duplicate_external_id")
        self.assertEqual(self.count(), n)

    def test_patching_to_another_leads_email_or_external_id_is_409_and_changes_nothing(self):
        a = self.create(email=uniq("a") + "@example.com", external_id=uniq("ea"))
        b = self.create(email=uniq("b") + "@example.com", external_id=uniq("eb"))
        self.assertProblem(self.req("PATCH", "/v1/leads/" + b["id"],
                                    {"email": a["email"].upper(), "first_name": "X"}),
                           409, "duplicate_email")
        self.assertProblem(self.req("PATCH", "/v1/leads/" + b["id"],
                                    {"external_id": a["external_id"]}),
                           409, "duplicate_external_id")
        self.assertEqual(self.srv.get_lead(self.key, b["id"]), b)
        self.assertEqual(self.srv.get_lead(self.key, a["id"]), a)

    def test_changing_an_email_frees_the_old_one(self):
        old = uniq("old") + "@example.com"
        lead = self.create(email=old)
        self.assertStatus(self.req("PATCH", "/v1/leads/" + lead["id"],
                                   {"email": uniq("new") + "@example.com"}), 200)
        self.create(email=old)
        status, _, cleared = self.req("PATCH", "/v1/leads/" + lead["id"], {"email": None})
        self.assertEqual(status, 200, cleared)
        self.assertIsNone(cleared["email"])

    def test_email_is_stored_lower_case(self):
        tag = uniq("Mixed")
        lead = self.create(email="Ada.%s@Example.COM" % tag)
        self.assertEqual(lead["email"], "ada.%s@example.com" % tag.lower())
        self.assertEqual(self.srv.get_lead(self.key, lead["id"])["email"], lead["email"])
        status, _, up = self.req("POST", "/v1/leads?upsert=email",
                                 {"email": lead["email"], "title": "found"})
        self.assertEqual(status, 200, up)
        self.assertEqual(up["id"], lead["id"])

    # -- events ---------------------------------------------------------------------------

    def test_events_update_counters_and_last_activity(self):
        lead = self.create(email=uniq("ev") + "@example.com")
        path = "/v1/leads/%s/events" % lead["id"]
        status, _, ev = self.req("POST", path, {"type": "page_view", "ts": "2024-05-01T10:00:00Z",
                                                "properties": {"url": "/pricing"}})
        self.assertEqual(status, 201, ev)
        score = ev.pop("score")  # the lead's score after the event (test_scoring.py)
        self.assertEqual(score["total"], lead["score"]["total"], "a page view 2.5 years old "
                         "has decayed to nothing under the default model")
        self.assertEqual(ev, {"lead_id": lead["id"], "type": "page_view",
                              "ts": "2024-05-01T10:00:00.000Z", "events": 1,
                              "last_activity_at": "2024-05-01T10:00:00.000Z"})
        # Epoch milliseconds.
        ms = calendar.timegm((2024, 5, 2, 8, 30, 0)) * 1000 + 250
        status, _, ev = self.req("POST", path, {"type": "page_view", "ts": ms})
        self.assertEqual(status, 201, ev)
        self.assertEqual(ev["ts"], "2024-05-02T08:30:00.250Z")
        self.assertEqual(ev["events"], 2)
        self.assertEqual(ev["last_activity_at"], "2024-05-02T08:30:00.250Z")
        # An offset is converted to UTC; an older event does not move last_activity_at.
        status, _, ev = self.req("POST", path, {"type": "email_open",
                                                "ts": "2024-04-30T12:00:00.5+02:00"})
        self.assertEqual(status, 201, ev)
        self.assertEqual(ev["ts"], "2024-04-30T10:00:00.500Z")
        self.assertEqual(ev["last_activity_at"], "2024-05-02T08:30:00.250Z")
        # Without ts: now.
        before = time.time() * 1000
        status, _, ev = self.req("POST", path, {"type": "demo_request"})
        self.assertEqual(status, 201, ev)
        self.assertLess(abs(iso_ms(ev["ts"]) - before), 60000)
        self.assertEqual(ev["events"], 4)
        got = self.srv.get_lead(self.key, lead["id"])
        self.assertEqual(got["activity"]["events"], 4)
        by_type = got["activity"]["by_type"]
        self.assertEqual(set(by_type), {"page_view", "email_open", "demo_request"})
        self.assertEqual(by_type["page_view"], {"count": 2,
                                                "first_at": "2024-05-01T10:00:00.000Z",
                                                "last_at": "2024-05-02T08:30:00.250Z"})
        self.assertEqual(by_type["email_open"]["count"], 1)
        self.assertEqual(by_type["email_open"]["first_at"], "2024-04-30T10:00:00.500Z")
        self.assertEqual(by_type["demo_request"]["count"], 1)
        self.assertEqual(got["last_activity_at"], ev["ts"])
        self.assertEqual(got["last_activity_at"], ev["last_activity_at"])
        # Identity fields are untouched by events.
        self.assertEqual(got["email"], lead["email"])

    def test_event_on_a_missing_lead_is_404(self):
        self.assertProblem(self.req("POST", "/v1/leads/0000000000000abc/events",
                                    {"type": "page_view"}), 404, "not_found")

    def batch_leads(self):
        a = self.create(email=uniq("ba") + "@example.com")
        b = self.create(email=uniq("bb") + "@example.com")
        return a, b

    def check_batch_outcome(self, a, b, res, expected_errors):
        status, headers, out = res
        self.assertEqual(status, 200, out)
        self.assertTrue(headers.get("Content-Type", "").startswith("application/json"))
        self.assertEqual(out["accepted"], 3, out)
        self.assertEqual(out["rejected"], len(expected_errors), out)
        got = [(e["index"], e["code"]) for e in out["errors"]]
        self.assertEqual(got, expected_errors)
        for e in out["errors"]:
            self.assertTrue(e["detail"])
        la = self.srv.get_lead(self.key, a["id"])
        lb = self.srv.get_lead(self.key, b["id"])
        self.assertEqual(la["activity"]["events"], 2)
        self.assertEqual(la["activity"]["by_type"]["page_view"]["count"], 1)
        self.assertEqual(la["activity"]["by_type"]["signup"]["first_at"],
                         "2024-06-01T00:00:00.000Z")
        self.assertEqual(lb["activity"]["events"], 1)
        self.assertEqual(lb["activity"]["by_type"]["email_click"]["count"], 1)

    def test_events_batch_json_array_records_good_items_and_reports_bad_ones_by_index(self):
        a, b = self.batch_leads()
        ts = calendar.timegm((2024, 6, 1, 0, 0, 0)) * 1000
        items = [
            {"lead_id": a["id"], "type": "page_view"},                   # 0 ok
            {"lead_id": "not-an-id", "type": "page_view"},               # 1 invalid_field
            {"lead_id": b["id"], "type": "email_click",
             "properties": {"campaign": "c1"}},                          # 2 ok
            {"lead_id": "00000000000000aa", "type": "page_view"},        # 3 not_found
            {"lead_id": a["id"]},                                        # 4 missing_field
            {"lead_id": a["id"], "type": "signup", "ts": ts},            # 5 ok
            {"type": "page_view"},                                       # 6 missing_field
            "not an object",                                             # 7 invalid_field
            {"lead_id": a["id"], "type": "x", "colour": 1},              # 8 unknown_field
        ]
        res = self.req("POST", "/v1/events:batch", items)
        self.check_batch_outcome(a, b, res, [(1, "invalid_field"), (3, "not_found"),
                                             (4, "missing_field"), (6, "missing_field"),
                                             (7, "invalid_field"), (8, "unknown_field")])

    def test_events_batch_ndjson_records_good_lines_and_reports_bad_ones_by_index(self):
        a, b = self.batch_leads()
        lines = [
            json.dumps({"lead_id": a["id"], "type": "page_view"}),      # 0 ok
            "",                                                          # blank: no index
            json.dumps({"lead_id": "xyz", "type": "page_view"}),        # 1 invalid_field
            "{not json",                                                 # 2 malformed_json
            json.dumps({"lead_id": b["id"], "type": "email_click"}),    # 3 ok
            "   ",                                                       # blank
            json.dumps({"lead_id": "00000000000000bb", "type": "a"}),   # 4 not_found
            json.dumps({"lead_id": a["id"], "ts": "2024-06-01T00:00:00Z"}),  # 5 missing_field
            json.dumps({"lead_id": a["id"], "type": "signup",
                        "ts": "2024-06-01T00:00:00Z"}),                  # 6 ok
        ]
        raw = "\r\n".join(lines) + "\n"
        res = self.req("POST", "/v1/events:batch", raw_body=raw,
                       content_type="application/x-ndjson")
        self.check_batch_outcome(a, b, res, [(1, "invalid_field"), (2, "malformed_json"),
                                             (4, "not_found"), (5, "missing_field")])

    def test_events_batch_counts_repeated_leads_once_per_item(self):
        a = self.create()
        items = [{"lead_id": a["id"], "type": "page_view"} for _ in range(25)]
        status, _, out = self.req("POST", "/v1/events:batch", items)
        self.assertEqual(status, 200, out)
        self.assertEqual(out, {"accepted": 25, "rejected": 0, "errors": []})
        got = self.srv.get_lead(self.key, a["id"])
        self.assertEqual(got["activity"]["events"], 25)
        self.assertEqual(got["activity"]["by_type"]["page_view"]["count"], 25)


if __name__ == "__main__":
    unittest.main()
