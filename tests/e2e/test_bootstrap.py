# First start and configuration: on an empty data directory the server makes
# a root key (random and printed once, or from --bootstrap-key /
# HOTLEAD_BOOTSTRAP_KEY) and a demo org with an admin key; keys work, are
# never printed again and never stored in clear. A bad configuration stops
# the start with a message naming the file and line.
import json
import os
import re
import subprocess
import unittest

import harness


class BareServer(harness.Server):
    """A Server started without --bootstrap-key (and with the demo org)."""

    def __init__(self, env=None, **kw):
        super().__init__(demo=True, **kw)
        self.env_extra = env or {}

    def args(self):
        a = [self.bin, "serve", "--port", str(self.port), "--data", self.data]
        return a + self.extra_args


def stored_bytes(data_dir):
    out = b""
    for root, _, files in os.walk(data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out += fh.read()
    return out


class BootstrapTest(unittest.TestCase):
    def start(self, **kw):
        srv = BareServer(**kw)
        self.addCleanup(srv.cleanup)
        srv.start()
        return srv

    def test_a_first_start_prints_a_root_key_and_a_demo_key_once(self):
        srv = self.start()
        out = srv.stdout_text()
        root = re.search(r"Root key \(shown once, keep it\): (hl_[0-9a-f]{48})", out)
        demo = re.search(r"Demo admin key \(shown once, keep it\): (hl_[0-9a-f]{48})", out)
        self.assertIsNotNone(root, out)
        self.assertIsNotNone(demo, out)
        self.assertIn("POST localhost:%d/v1/orgs" % srv.port, out)
        root, demo = root.group(1), demo.group(1)
        status, _, org = srv.request("POST", "/v1/orgs", {"name": "Acme"}, key=root)
        self.assertEqual(status, 201, org)
        status, _, lead = srv.request("POST", "/v1/leads", {"email": "d@example.com"}, key=demo)
        self.assertEqual(status, 201, lead)
        # Restart: nothing printed again, the keys still work.
        srv.restart()
        self.assertEqual(srv.stdout_text().count("shown once"), 2)
        self.assertEqual(srv.get_lead(demo, lead["id"])["email"], "d@example.com")
        self.assertEqual(srv.request("POST", "/v1/orgs", {"name": "B"}, key=root)[0], 201)
        # Keys are stored hashed: neither secret appears in any file of the data directory.
        self.assertEqual(srv.stop(), 0)
        data = stored_bytes(srv.data)
        self.assertGreater(len(data), 0)
        for secret in (root, demo):
            self.assertNotIn(secret.encode(), data)

    def test_the_root_key_can_come_from_the_environment(self):
        srv = self.start(env={"HOTLEAD_BOOTSTRAP_KEY": "env-root-key-0123456789"},
                         extra_args=["--no-demo"])
        self.assertIn("Root key set from --bootstrap-key / HOTLEAD_BOOTSTRAP_KEY",
                      srv.stdout_text())
        self.assertNotIn("Demo org", srv.stdout_text())
        status, _, _ = srv.request("POST", "/v1/orgs", {"name": "Env"},
                                   key="env-root-key-0123456789")
        self.assertEqual(status, 201)

    def test_a_too_short_bootstrap_key_stops_the_start(self):
        srv = BareServer(extra_args=["--bootstrap-key", "short", "--no-demo"])
        self.addCleanup(srv.cleanup)
        srv.start(wait=False)
        srv.proc.wait(30)
        self.assertEqual(srv.proc.returncode, 1)
        self.assertIn("16 to 256 characters", srv.stderr_text())


class JsonLogTest(unittest.TestCase):
    def test_json_logs_are_one_valid_object_per_line(self):
        srv = harness.Server(extra_args=["--set", "log.format=json"])
        srv.data = os.path.join(srv.dir, 'da"ta\\dir')  # a quote and a backslash to escape
        self.addCleanup(srv.cleanup)
        srv.start()
        self.assertEqual(srv.stop(), 0)
        lines = [l for l in srv.stderr_text().split("\n") if l.strip()]
        self.assertGreaterEqual(len(lines), 4)
        for line in lines:
            rec = json.loads(line)
            self.assertEqual(set(rec), {"ts", "level", "logger", "msg"}, line)
        self.assertTrue(any(srv.data in json.loads(l)["msg"] for l in lines), lines)
        self.assertEqual(json.loads(lines[-1])["msg"], "stopped")


class ConfigTest(unittest.TestCase):
    def run_serve(self, *args, timeout=30):
        return subprocess.run([harness.binary(), "serve"] + list(args), capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def test_an_unknown_key_names_the_file_and_line(self):
        d = self.enterContext(harness.tempfile.TemporaryDirectory())
        conf = os.path.join(d, "bad.conf")
        with open(conf, "w") as f:
            f.write("# comment\n[server]\nport = 0\nprot = 1\n")
        res = self.run_serve("--config", conf, "--data", os.path.join(d, "data"))
        self.assertEqual(res.returncode, 2)
        self.assertIn("bad.conf:4: unknown key 'server.prot'", res.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(d, "data")), "nothing may start")

    def test_bad_values_and_missing_files_are_errors(self):
        d = self.enterContext(harness.tempfile.TemporaryDirectory())
        conf = os.path.join(d, "v.conf")
        with open(conf, "w") as f:
            f.write("[storage]\ndurability = maybe\n")
        res = self.run_serve("--config", conf)
        self.assertEqual(res.returncode, 2)
        self.assertIn("v.conf:2: storage.durability = 'maybe': must be sync", res.stderr.decode())
        res = self.run_serve("--config", os.path.join(d, "missing.conf"))
        self.assertEqual(res.returncode, 2)
        self.assertIn("cannot read config file", res.stderr.decode())
        res = self.run_serve("--shards", "0")
        self.assertEqual(res.returncode, 2)
        self.assertIn("actors.shards", res.stderr.decode())
        res = self.run_serve("--set", "limits.max_tagz=3")
        self.assertEqual(res.returncode, 2)
        self.assertIn("unknown key 'limits.max_tagz'", res.stderr.decode())
        res = self.run_serve("--workers", "many")
        self.assertEqual(res.returncode, 2)
        self.assertIn("actors.workers = 'many': must be auto or a whole number from 1 to 64",
                      res.stderr.decode())

    def test_thread_counts_default_to_half_the_cores(self):
        def started(*args):
            srv = harness.Server(extra_args=args)
            self.addCleanup(srv.cleanup)
            srv.start()
            return srv
        expected = max(1, (os.cpu_count() or 2) // 2)
        self.assertIn("(%d io threads," % expected, started().stderr_text())
        srv = started("--io-threads", "3", "--workers", "auto")
        self.assertIn("(3 io threads,", srv.stderr_text())
        self.assertEqual(srv.request("GET", "/healthz")[0], 200)

    def test_the_shipped_cluster_conf_is_valid_and_documents_every_key(self):
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(repo, "cluster.conf")) as f:
            conf = f.read()
        keys = subprocess.run([harness.binary(), "config"], capture_output=True,
                              timeout=30).stdout.decode().split("\n")
        section = None
        documented = set()
        for line in conf.split("\n"):
            line = line.split("#")[0].strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif "=" in line:
                k, v = [x.strip() for x in line.split("=", 1)]
                documented.add("%s.%s = %s" % (section, k, v))
        self.assertEqual(documented, {k for k in keys if k})


if __name__ == "__main__":
    unittest.main()
