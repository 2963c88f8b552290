# Durability end to end: a restart (SIGTERM, and kill -9) keeps leads, orgs,
# keys (with their roles), events and the uniqueness indexes; the async
# durability mode keeps acknowledged writes too; POST /admin/snapshot (root
# only) followed by `hotlead restore` into a new directory and a server on
# that directory gives back exactly the leads of the snapshot moment.
import os
import subprocess
import unittest

import harness


def seed(srv, org_names=("Durable A", "Durable B")):
    """Orgs, keys of several roles, leads with events, a patch, a delete."""
    world = {"orgs": {}, "keys": {}, "deleted": []}
    for name in org_names:
        org, admin = srv.org_with_key("admin", name)
        world["orgs"][org] = admin
        world["keys"][(org, "admin")] = admin
        for role in ("manager", "viewer"):
            world["keys"][(org, role)] = srv.make_key(org, role, key=admin)
        ids = []
        for i in range(25):
            lead = srv.create_lead(admin, {
                "email": "p%02d@%s.test" % (i, org), "external_id": "x-%d" % i,
                "first_name": "F%d" % i, "status": ["new", "qualified", "lost"][i % 3],
                "tags": ["t%d" % (i % 4)], "attributes": {"n": i, "s": "v%d" % i, "b": i % 2 == 0}})
            ids.append(lead["id"])
        for i, lid in enumerate(ids[:10]):
            for j in range(i % 4 + 1):
                status, _, body = srv.request("POST", "/v1/leads/%s/events" % lid,
                                              {"type": "visit" if j % 2 else "open",
                                               "ts": "2024-03-0%dT10:00:00Z" % (j + 1),
                                               "properties": {"j": j}}, key=admin)
                assert status == 201, body
        status, _, body = srv.request("POST", "/v1/events:batch",
                                      [{"lead_id": lid, "type": "bulk"} for lid in ids[10:20]],
                                      key=admin)
        assert status == 200 and body["accepted"] == 10, body
        status, _, body = srv.request("PATCH", "/v1/leads/" + ids[0],
                                      {"company": "Patched", "attributes": {"n": None}}, key=admin)
        assert status == 200, body
        status, _, body = srv.request("DELETE", "/v1/leads/" + ids[-1], key=admin)
        assert status == 204, body
        world["deleted"].append((org, ids[-1], "p24@%s.test" % org))
    return world


def snapshot_state(srv, world):
    return {org: sorted(srv.list_all(key)[0], key=lambda l: l["id"])
            for org, key in world["orgs"].items()}


class DurabilityTest(harness.ServerTestCase):
    def check_world(self, srv, world, expected):
        self.assertEqual(snapshot_state(srv, world), expected)
        for org, lead_id, email in world["deleted"]:
            admin = world["orgs"][org]
            self.assertProblem(srv.request("GET", "/v1/leads/" + lead_id, key=admin), 404,
                               "not_found")
        for (org, role), key in world["keys"].items():
            with self.subTest(org=org, role=role):
                # Every key still authenticates, with its own role and org.
                status, _, page = srv.request("GET", "/v1/leads?limit=1", key=key)
                self.assertEqual(status, 200, page)
                self.assertEqual(page["data"][0]["org_id"], org)
                status, _, body = srv.request("POST", "/v1/leads", {"first_name": "r"}, key=key)
                if role == "viewer":
                    self.assertProblem((status, _, body), 403, "forbidden")
                else:
                    self.assertEqual(status, 201, body)
        for org, admin in world["orgs"].items():
            # The uniqueness indexes were rebuilt: duplicates are still 409,
            # upserts find the existing lead.
            self.assertProblem(srv.request("POST", "/v1/leads", {"email": "P01@%s.test" % org},
                                           key=admin), 409, "duplicate_email")
            self.assertProblem(srv.request("POST", "/v1/leads", {"external_id": "x-2"},
                                           key=admin), 409, "duplicate_external_id")
            status, _, lead = srv.request("POST", "/v1/leads?upsert=external_id",
                                          {"external_id": "x-3", "title": "after"}, key=admin)
            self.assertEqual(status, 200, lead)
            # The org exists: root creates a key in it.
            srv.make_key(org, "analyst")
        for org, lead_id, email in world["deleted"]:
            # A deleted lead's email is free.
            srv.create_lead(world["orgs"][org], {"email": email})

    def test_a_restart_keeps_leads_orgs_keys_and_events(self):
        srv = harness.start_server(self)
        world = seed(srv)
        expected = snapshot_state(srv, world)
        self.assertEqual(sum(len(v) for v in expected.values()), 48)
        srv.stop()
        srv.start()
        self.check_world(srv, world, expected)
        leads = harness.metric_values(srv.metrics(), "hotlead_leads")
        self.assertEqual(sum(leads.values()), sum(len(srv.list_all(k)[0])
                                                  for k in world["orgs"].values()))

    def test_kill_9_keeps_every_acknowledged_write(self):
        srv = harness.start_server(self)
        world = seed(srv)
        expected = snapshot_state(srv, world)
        srv.kill9()
        srv.start()
        self.check_world(srv, world, expected)

    def test_events_newer_than_their_lead_record_are_replayed_after_kill_9(self):
        # An event stores its own record; the lead record is rewritten every
        # 32 events or by the sweep (storage.record_interval, here far away).
        srv = harness.Server()
        self.addCleanup(srv.cleanup)
        conf = os.path.join(srv.dir, "tails.conf")
        with open(conf, "w") as f:
            f.write("[storage]\nrecord_interval = 10m\n")
        srv.extra_args = ["--config", conf]
        srv.start()
        org, admin = srv.org_with_key("admin", "Tails")
        leads = [srv.create_lead(admin, {"email": "t%d@tails.test" % i}) for i in range(3)]
        # No events; a tail of 5; 40 events: the 32nd rewrote the record, 8 follow it.
        for lead, n in zip(leads, (0, 5, 40)):
            for j in range(n):
                status, _, body = srv.request(
                    "POST", "/v1/leads/%s/events" % lead["id"],
                    {"type": "kind%d" % (j % 3), "ts": "2026-01-%02dT10:00:00.%03dZ" % (j % 28 + 1, j),
                     "properties": {"j": j, "s": "x\"y"}}, key=admin)
                self.assertEqual(status, 201, body)
        before = [srv.get_lead(admin, l["id"]) for l in leads]
        self.assertEqual([l["activity"]["events"] for l in before], [0, 5, 40])
        srv.kill9()
        srv.start()
        self.assertIn("(13 events replayed onto 2 leads)", srv.stderr_text())
        self.assertEqual([srv.get_lead(admin, l["id"]) for l in leads], before)
        # Events go on from the replayed state, and a graceful restart keeps them.
        status, _, body = srv.request("POST", "/v1/leads/%s/events" % leads[1]["id"],
                                      {"type": "kind0"}, key=admin)
        self.assertEqual(status, 201, body)
        self.assertEqual(body["events"], 6)
        after = [srv.get_lead(admin, l["id"]) for l in leads]
        srv.stop()
        srv.start()
        self.assertEqual([srv.get_lead(admin, l["id"]) for l in leads], after)

    def test_async_durability_keeps_acknowledged_writes_across_restarts(self):
        srv = harness.start_server(self, extra_args=["--durability", "async"])
        self.assertIn("durability async", srv.stderr_text())
        world = seed(srv, ("Async A",))
        expected = snapshot_state(srv, world)
        srv.stop()
        srv.start()
        self.check_world(srv, world, expected)
        # WAL written, not fsynced: a killed process (not a lost machine) keeps it.
        more = srv.create_lead(world["orgs"][list(world["orgs"])[0]], {"first_name": "late"})
        expected = snapshot_state(srv, world)
        srv.kill9()
        srv.start()
        self.assertEqual(snapshot_state(srv, world), expected)
        self.assertIn(more["id"], [l["id"] for v in expected.values() for l in v])

    def test_a_snapshot_restores_into_a_new_directory(self):
        srv = harness.start_server(self)
        world = seed(srv, ("Snap A",))
        expected = snapshot_state(srv, world)
        status, _, snap = srv.request("POST", "/admin/snapshot", {"name": "e2e-1"},
                                      key=srv.root_key)
        self.assertEqual(status, 201, snap)
        path = snap["path"]
        self.assertTrue(path.endswith(os.path.join("snapshots", "e2e-1")), path)
        self.assertTrue(os.path.isdir(path), path)
        # Writes after the snapshot are not in it.
        org, admin = next(iter(world["orgs"].items()))
        late = srv.create_lead(admin, {"first_name": "after the snapshot"})
        status, _, body = srv.request("DELETE", "/v1/leads/" + expected[org][0]["id"], key=admin)
        self.assertEqual(status, 204, body)
        # Restore into a new directory and serve it.
        restored = harness.Server()
        self.addCleanup(restored.cleanup)
        restored.root_key = srv.root_key
        res = subprocess.run([harness.binary(), "restore", "--from", path, "--data",
                              restored.data], capture_output=True, timeout=60, cwd=restored.dir)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        restored.start()
        self.assertEqual(snapshot_state(restored, world), expected)
        self.assertProblem(restored.request("GET", "/v1/leads/" + late["id"], key=admin), 404,
                           "not_found")
        for (o, role), key in world["keys"].items():
            self.assertEqual(restored.request("GET", "/v1/leads?limit=1", key=key)[0], 200, role)
        # The original server is unaffected.
        self.assertEqual(srv.get_lead(admin, late["id"])["first_name"], "after the snapshot")

    def test_a_snapshot_without_a_name_gets_one(self):
        srv = harness.start_server(self)
        status, _, snap = srv.request("POST", "/admin/snapshot", key=srv.root_key,
                                      content_type=None)
        self.assertEqual(status, 201, snap)
        self.assertIn(os.path.join(srv.data, "snapshots", "snap-"), snap["path"])
        self.assertTrue(os.path.isdir(snap["path"]))

    def test_the_snapshot_command_works_offline_and_against_a_running_server(self):
        srv = harness.start_server(self)
        world = seed(srv, ("Cli A",))
        expected = snapshot_state(srv, world)
        bin_ = harness.binary()
        # Online: through POST /admin/snapshot with the root key.
        res = subprocess.run([bin_, "snapshot", "--server", "127.0.0.1:%d" % srv.port, "--key",
                              srv.root_key, "--name", "cli-online"], capture_output=True,
                             timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        self.assertIn("cli-online", res.stdout.decode())
        self.assertTrue(os.path.isdir(os.path.join(srv.data, "snapshots", "cli-online")))
        # Offline while the server holds the directory: refused with the reason.
        offline = os.path.join(srv.dir, "offline-snap")
        res = subprocess.run([bin_, "snapshot", "--data", srv.data, "--to", offline],
                             capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertIn("another hotlead", res.stderr.decode())
        self.assertIn("--server", res.stderr.decode())
        # Offline once it is stopped, then restore and serve the copy.
        self.assertEqual(srv.stop(), 0)
        res = subprocess.run([bin_, "snapshot", "--data", srv.data, "--to", offline],
                             capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        restored = harness.Server()
        self.addCleanup(restored.cleanup)
        restored.root_key = srv.root_key
        res = subprocess.run([bin_, "restore", "--from", offline, "--data", restored.data],
                             capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr.decode())
        # Restoring again over a non-empty directory needs --force.
        res = subprocess.run([bin_, "restore", "--from", offline, "--data", restored.data],
                             capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertIn("not empty", res.stderr.decode())
        restored.start()
        self.assertEqual(snapshot_state(restored, world), expected)

    def test_only_root_makes_snapshots(self):
        srv = harness.start_server(self)
        org, admin = srv.org_with_key("admin")
        for role in ("admin", "manager", "viewer"):
            key = admin if role == "admin" else srv.make_key(org, role)
            self.assertProblem(srv.request("POST", "/admin/snapshot", {"name": "nope-" + role},
                                           key=key), 403, "forbidden")
        self.assertProblem(srv.request("POST", "/admin/snapshot", {"name": "anon"}), 401,
                           "unauthorized")
        self.assertProblem(srv.request("POST", "/admin/snapshot", {"name": "../escape"},
                                       key=srv.root_key), 400, "invalid_field")
        self.assertProblem(srv.request("POST", "/admin/snapshot", {"label": "x"},
                                       key=srv.root_key), 400, "unknown_field")
        snaps = os.path.join(srv.data, "snapshots")
        self.assertEqual(os.listdir(snaps) if os.path.isdir(snaps) else [], [])


if __name__ == "__main__":
    unittest.main()
