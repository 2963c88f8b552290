# A full disk is reported and survived: below storage.min_free_bytes writes
# get 503 storage_error (never a false 2xx) and change nothing, reads keep
# being served, /readyz says why; once space is freed writes succeed again
# without a restart, and a restart has exactly the acknowledged writes.
# Needs root to mount a small tmpfs; skipped where mounting fails.
import os
import subprocess
import tempfile
import unittest

from harness import Server


def mount_tmpfs(path, size):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="hotlead-full-")
        self.addCleanup(os.rmdir, self.mnt)
        if os.geteuid() != 0 or not mount_tmpfs(self.mnt, "16M"):
            self.skipTest("needs root and tmpfs mounts")
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.server = Server(data_dir=os.path.join(self.mnt, "data"),
                             extra_args=["--set", "storage.min_free_bytes=8388608"])
        self.addCleanup(self.server.cleanup)  # runs before the umount
        self.server.start()

    def test_a_full_disk_refuses_writes_cleanly_and_keeps_acknowledged_ones(self):
        s = self.server
        org, key = s.org_with_key("admin")
        lead = s.create_lead(key, {"email": "full@example.com"})
        other = s.create_lead(key, {"email": "other@example.com"})
        big = {"type": "page_view", "properties": {"blob": "y" * 3000}}
        acked = refused = 0
        for _ in range(3000):  # ~4 MiB of room fills long before this
            status, headers, body = s.request("POST", "/v1/leads/%s/events" % lead["id"], big,
                                              key=key)
            if status == 201:
                acked += 1
                self.assertEqual(refused, 0, "a write succeeded after the disk was full")
                continue
            self.assertEqual(status, 503, body)
            self.assertEqual(headers["Content-Type"], "application/problem+json")
            self.assertEqual(body["code"], "storage_error")
            self.assertIn("disk is nearly full", body["detail"])
            refused += 1
            if refused >= 20:
                break
        self.assertGreater(acked, 0)
        self.assertEqual(refused, 20)
        # Memory shows exactly what was acknowledged, and reads go on.
        self.assertEqual(s.get_lead(key, lead["id"])["activity"]["events"], acked)
        self.assertEqual(s.get_lead(key, other["id"])["email"], "other@example.com")
        status, _, body = s.request("GET", "/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(body["code"], "storage_error")
        status, _, body = s.request("PATCH", "/v1/leads/" + other["id"], {"title": "CEO"},
                                    key=key)
        self.assertEqual(status, 503)
        self.assertIsNone(s.get_lead(key, other["id"])["title"])
        # Free space: writes are accepted again, without a restart.
        self.assertEqual(subprocess.run(["mount", "-o", "remount,size=48M", self.mnt]).returncode, 0)
        status, _, _ = s.request("GET", "/readyz")
        self.assertEqual(status, 200)
        status, _, body = s.request("POST", "/v1/leads/%s/events" % lead["id"], {"type": "x"},
                                    key=key)
        self.assertEqual(status, 201, body)
        acked += 1
        self.assertEqual(s.stop(), 0, s.stderr_text()[-2000:])
        self.assertIn("stopped", s.stderr_text())
        # A restart has everything acknowledged, nothing else.
        s.start()
        self.assertEqual(s.get_lead(key, lead["id"])["activity"]["events"], acked)
        self.assertIsNone(s.get_lead(key, other["id"])["title"])


if __name__ == "__main__":
    unittest.main()
