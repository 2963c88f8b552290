# Demo data: a first start fills the demo org with synthetic leads and
# their activity (--demo-leads), scored and explained like real ones; a
# restart does not add more; `hotlead demo` fills another org of a running
# server, and a second run with the same seed adds activity, not leads.
import collections
import re
import subprocess
import time
import unittest

import harness


class DemoTest(harness.ServerTestCase):
    def test_first_start_fills_the_demo_org_once(self):
        srv = harness.start_server(self, demo=True, extra_args=["--demo-leads", "600"])
        key = re.search(r"Demo admin key \(shown once, keep it\): (hl_[0-9a-f]{48})",
                        srv.stdout_text()).group(1)
        harness.wait_for(lambda: "demo org filled: 600 leads" in srv.stderr_text(), 60)
        leads, _ = srv.list_all(key)
        self.assertEqual(len(leads), 600)
        self.assertEqual(len({l["email"] for l in leads}), 600)
        active = [l for l in leads if l["activity"]["events"] > 0]
        self.assertGreater(len(active), 400)
        grades = collections.Counter(l["score"]["grade"] for l in leads)
        self.assertGreaterEqual(len(grades), 3, grades)
        statuses = collections.Counter(l["status"] for l in leads)
        self.assertGreater(statuses["converted"], 0)
        self.assertGreater(statuses["lost"], 0)
        for l in leads:
            s = l["score"]
            self.assertAlmostEqual(sum(f["points"] for f in s["factors"]
                                       if f["kind"] == "engagement"), s["engagement"], places=2)
        srv.stop()
        srv.start()
        time.sleep(1)
        leads, _ = srv.list_all(key)
        self.assertEqual(len(leads), 600)
        self.assertNotIn("demo org filled", srv.stderr_text().split("ready")[-1])

    def test_the_demo_command_fills_an_org_of_a_running_server(self):
        srv = harness.start_server(self)
        org, key = srv.org_with_key("admin")
        args = [harness.binary(), "demo", "--server", "127.0.0.1:%d" % srv.port, "--key", key,
                "--leads", "300"]
        run = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        m = re.search(r"demo: 300 leads with (\d+) events", run.stdout)
        self.assertIsNotNone(m, run.stdout)
        events = int(m.group(1))
        leads, _ = srv.list_all(key)
        self.assertEqual(len(leads), 300)
        self.assertEqual(sum(l["activity"]["events"] for l in leads), events)
        run = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        leads, _ = srv.list_all(key)
        self.assertEqual(len(leads), 300)
        self.assertEqual(sum(l["activity"]["events"] for l in leads), 2 * events)
        bad = subprocess.run([harness.binary(), "demo", "--server", "127.0.0.1:%d" % srv.port,
                              "--key", "hl_nope"], capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("401", bad.stderr)


if __name__ == "__main__":
    unittest.main()
