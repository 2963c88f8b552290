# GET /v1/leads end to end: every filter (status incl. a comma list, source,
# owner, tag, created/updated ranges: after inclusive, before exclusive),
# every sort field ascending and descending (ties broken by id), cursor
# pagination that walks all leads exactly once (120 leads, limit 7, also
# while new leads arrive), and the 400s: invalid_cursor, invalid_query for
# unknown parameters, bad values and a limit outside 1-1000.
import secrets
import time
import unittest
import urllib.parse

import harness

STATUSES = ["new", "contacted", "qualified", "unqualified", "converted", "lost"]
SOURCES = ["web", "ads", "referral"]
OWNERS = ["alice", "Bob Smith", "carol"]
N = 120


def sort_value(lead, field):
    v = lead[field]
    return "" if v is None else v


class ListTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        srv = cls.srv = harness.start_server(cls)
        cls.org, cls.key = srv.org_with_key("admin")
        ids = []
        for i in range(N):
            fields = {"status": STATUSES[i % 6], "source": SOURCES[i % 3],
                      "owner": OWNERS[i % 4] if i % 4 < 3 else None,
                      "tags": ["t%d" % (i % 5)] + (["vip"] if i % 7 == 0 else []),
                      "first_name": "n%03d" % i}
            if i % 10 != 9:  # some leads without email sort first by email
                fields["email"] = "%s-%03d@list.test" % (secrets.token_hex(2), i)
            ids.append(srv.create_lead(cls.key, fields)["id"])
            if i % 13 == 0:
                time.sleep(0.003)  # spread created_at over several ms
        # Touch some leads later so updated_at differs from created_at, and
        # give some activity (last_activity_at) in a known order.
        for j, lid in enumerate(ids[::3]):
            status, _, body = srv.request("PATCH", "/v1/leads/" + lid, {"title": "t%d" % j},
                                          key=cls.key)
            assert status == 200, body
        for j, lid in enumerate(ids[::4]):
            ts = 1714550400000 + ((j * 7919) % 500) * 60000
            status, _, body = srv.request("POST", "/v1/leads/%s/events" % lid,
                                          {"type": "page_view", "ts": ts}, key=cls.key)
            assert status == 201, body
        cls.leads = {lid: srv.get_lead(cls.key, lid) for lid in ids}

    def get(self, query):
        return self.srv.request("GET", "/v1/leads?" + query, key=self.key)

    def ids(self, query):
        status, _, page = self.get(query + "&limit=1000" if query else "limit=1000")
        self.assertEqual(status, 200, page)
        self.assertIsNone(page["next_cursor"])
        return [l["id"] for l in page["data"]]

    def expect(self, pred):
        return {l["id"] for l in self.leads.values() if pred(l)}

    def expected_order(self, field, desc):
        ordered = sorted(self.leads.values(), key=lambda l: (sort_value(l, field), l["id"]))
        if desc:
            ordered.reverse()
        return [l["id"] for l in ordered]

    # -- filters --------------------------------------------------------------------------

    def test_without_filters_the_list_holds_every_lead_of_the_org_once(self):
        got = self.ids("")
        self.assertEqual(len(got), N)
        self.assertEqual(set(got), set(self.leads))
        status, _, page = self.get("limit=1000")
        by_id = {l["id"]: l for l in page["data"]}
        self.assertEqual(by_id, self.leads)  # the list shows whole leads

    def test_status_filter_takes_one_status_or_a_comma_list(self):
        self.assertEqual(set(self.ids("status=qualified")),
                         self.expect(lambda l: l["status"] == "qualified"))
        self.assertEqual(set(self.ids("status=new,lost")),
                         self.expect(lambda l: l["status"] in ("new", "lost")))
        self.assertEqual(set(self.ids("status=new%2Ccontacted%2Cconverted")),
                         self.expect(lambda l: l["status"] in ("new", "contacted",
                                                               "converted")))
        self.assertEqual(len(self.ids("status=qualified")), N // 6)

    def test_source_owner_and_tag_filters(self):
        self.assertEqual(set(self.ids("source=ads")), self.expect(lambda l: l["source"] == "ads"))
        self.assertEqual(set(self.ids("owner=alice")),
                         self.expect(lambda l: l["owner"] == "alice"))
        self.assertEqual(set(self.ids("owner=Bob%20Smith")),
                         self.expect(lambda l: l["owner"] == "Bob Smith"))
        self.assertEqual(set(self.ids("owner=Bob+Smith")),
                         self.expect(lambda l: l["owner"] == "Bob Smith"))
        self.assertEqual(set(self.ids("tag=vip")), self.expect(lambda l: "vip" in l["tags"]))
        self.assertEqual(set(self.ids("tag=t3")), self.expect(lambda l: "t3" in l["tags"]))
        self.assertEqual(self.ids("source=nowhere"), [])
        self.assertEqual(self.ids("tag=VIP"), [])

    def test_filters_combine_with_and(self):
        self.assertEqual(set(self.ids("status=new,qualified&source=web&tag=t0")),
                         self.expect(lambda l: l["status"] in ("new", "qualified")
                                     and l["source"] == "web" and "t0" in l["tags"]))

    def test_created_range_is_inclusive_after_and_exclusive_before(self):
        times = sorted({l["created_at"] for l in self.leads.values()})
        self.assertGreater(len(times), 5, "created_at should spread over several ms")
        lo, hi = times[len(times) // 4], times[3 * len(times) // 4]
        q = urllib.parse.quote
        self.assertEqual(set(self.ids("created_after=" + q(lo))),
                         self.expect(lambda l: l["created_at"] >= lo))
        self.assertEqual(set(self.ids("created_before=" + q(hi))),
                         self.expect(lambda l: l["created_at"] < hi))
        self.assertEqual(set(self.ids("created_after=%s&created_before=%s" % (q(lo), q(hi)))),
                         self.expect(lambda l: lo <= l["created_at"] < hi))
        # The same instant written with an offset ('+' must be escaped).
        self.assertEqual(set(self.ids("created_after=2000-01-01T02:00:00%2B02:00")),
                         set(self.leads))
        self.assertEqual(self.ids("created_before=2000-01-01T00:00:00Z"), [])

    def test_updated_range_is_inclusive_after_and_exclusive_before(self):
        times = sorted({l["updated_at"] for l in self.leads.values()})
        mid = times[len(times) // 2]
        q = urllib.parse.quote(mid)
        self.assertEqual(set(self.ids("updated_after=" + q)),
                         self.expect(lambda l: l["updated_at"] >= mid))
        self.assertEqual(set(self.ids("updated_before=" + q)),
                         self.expect(lambda l: l["updated_at"] < mid))
        self.assertEqual(set(self.ids("updated_after=%s&updated_before=%s" % (q, q))), set())

    # -- sort --------------------------------------------------------------------------------

    def test_each_sort_field_orders_ascending_and_descending(self):
        for field in ("created_at", "updated_at", "last_activity_at", "email"):
            for desc in (False, True):
                with self.subTest(field=field, desc=desc):
                    got = self.ids("sort=%s%s" % ("-" if desc else "", field))
                    self.assertEqual(got, self.expected_order(field, desc))

    def test_default_sort_is_newest_created_first(self):
        self.assertEqual(self.ids(""), self.expected_order("created_at", True))

    def test_default_limit_is_50(self):
        status, _, page = self.get("")
        self.assertEqual(status, 200, page)
        self.assertEqual(len(page["data"]), 50)
        self.assertIsNotNone(page["next_cursor"])
        self.assertEqual([l["id"] for l in page["data"]],
                         self.expected_order("created_at", True)[:50])

    # -- pagination ------------------------------------------------------------------------------

    def test_cursor_pagination_walks_every_lead_exactly_once_in_order(self):
        for sort in ("-created_at", "created_at", "email", "-email", "-updated_at",
                     "last_activity_at", "-last_activity_at"):
            with self.subTest(sort=sort):
                leads, pages = self.srv.list_all(self.key, "sort=" + sort, limit=7)
                ids = [l["id"] for l in leads]
                self.assertEqual(len(ids), len(set(ids)), "a lead appeared twice")
                self.assertEqual(len(ids), N)
                self.assertEqual(pages, (N + 6) // 7)
                desc = sort.startswith("-")
                self.assertEqual(ids, self.expected_order(sort.lstrip("-"), desc))

    def test_pagination_with_filters_and_limit_1(self):
        want = [i for i in self.expected_order("email", False)
                if self.leads[i]["status"] == "contacted"]
        leads, pages = self.srv.list_all(self.key, "status=contacted&sort=email", limit=1)
        self.assertEqual([l["id"] for l in leads], want)
        self.assertEqual(pages, len(want))

    def test_pagination_stays_exact_while_leads_are_created(self):
        # A separate org, so the other tests keep their 120 leads.
        org, key = self.srv.org_with_key("manager")
        mine = [self.srv.create_lead(key, {"first_name": "p%d" % i})["id"] for i in range(30)]
        seen, cursor = [], None
        for _ in range(100):
            q = "limit=4" + ("&cursor=" + cursor if cursor else "")
            status, _, page = self.srv.request("GET", "/v1/leads?" + q, key=key)
            self.assertEqual(status, 200, page)
            seen.extend(l["id"] for l in page["data"])
            # Newer leads sort before the cursor (-created_at): never shown.
            self.srv.create_lead(key, {"first_name": "late"})
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), set(mine))

    def test_a_cursor_not_issued_by_the_server_is_400_invalid_cursor(self):
        status, _, page = self.get("limit=5&sort=email")
        self.assertEqual(status, 200)
        cursor = page["next_cursor"]
        self.assertTrue(cursor)
        for bad in ("garbage", "%00", cursor + "zz", cursor[:-1] + "g",
                    "email.a.0.0000000000000000.", "email.d" + cursor[len("email.a"):]):
            with self.subTest(cursor=bad):
                self.assertProblem(self.get("sort=email&cursor=" + urllib.parse.quote(bad)),
                                   400, "invalid_cursor")
        # A good cursor with another sort.
        self.assertProblem(self.get("cursor=" + urllib.parse.quote(cursor)), 400,
                           "invalid_cursor")
        self.assertProblem(self.get("sort=-email&cursor=" + urllib.parse.quote(cursor)), 400,
                           "invalid_cursor")
        # The same cursor with its own sort still works.
        self.assertEqual(self.get("limit=5&sort=email&cursor=" + urllib.parse.quote(cursor))[0],
                         200)

    # -- bad queries ---------------------------------------------------------------------------

    def test_unknown_parameters_are_400_invalid_query(self):
        for q in ("foo=1", "Status=new", "limit=5&colour=red", "sort_by=email", "q=ada"):
            with self.subTest(q=q):
                body = self.assertProblem(self.get(q), 400, "invalid_query")
                self.assertEqual(body["instance"], "/v1/leads")

    def test_limit_outside_1_to_1000_is_400_invalid_query(self):
        for q in ("limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "limit=5x",
                  "limit=99999999999999999999"):
            with self.subTest(q=q):
                self.assertProblem(self.get(q), 400, "invalid_query")
        self.assertEqual(self.get("limit=1")[0], 200)
        self.assertEqual(self.get("limit=1000")[0], 200)

    def test_bad_values_are_400_invalid_query(self):
        for q in ("status=hot", "status=new,", "status=new,,lost", "sort=name", "sort=-",
                  "sort=--email", "created_after=yesterday", "created_before=2024-13-01T00:00:00Z",
                  "updated_after=2024-05-01T10:00:00", "updated_before=1714550400000",
                  "owner=%zz", "tag=%4"):
            with self.subTest(q=q):
                self.assertProblem(self.get(q), 400, "invalid_query")


if __name__ == "__main__":
    unittest.main()
