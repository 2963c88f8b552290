# The change feed (GET /v1/stream) checked with this project's own Beast
# WebSocket client, `hotlead-wsfanout --check` (bench/ws_check.hpp): 20
# subscribers of "leads" each receive the messages of 2,000 events exactly
# once, seqs consecutive, as many per lead as the lead had acknowledged
# writes; one of them closes mid-way and resumes with resume_from, and ends
# with the same messages as the others. A server whose replay window is too
# short for that resume must make the check fail (the checker can fail).
# The client is built next to hotlead; HOTLEAD_WSFANOUT names another.
import json
import os
import subprocess
import unittest

import harness

LEADS = 20
SUBSCRIBERS = 20
WRITES = 2000
CONNECTIONS = 8
RUN_TIMEOUT = 40  # the check gives up after 25 s; this bounds the process


def wsfanout():
    path = os.environ.get("HOTLEAD_WSFANOUT") or os.path.join(
        os.path.dirname(harness.binary()), "hotlead-wsfanout")
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s is not an executable file: build the hotlead-wsfanout target "
                           "(or set HOTLEAD_WSFANOUT)" % path)
    return path


class StreamBeastTest(harness.ServerTestCase):
    def check(self, srv, key):
        args = [wsfanout(), "--check", "--port", str(srv.port), "--key", key,
                "--leads", str(LEADS), "--subscribers", str(SUBSCRIBERS),
                "--writes", str(WRITES), "--connections", str(CONNECTIONS), "--timeout", "25"]
        return subprocess.run(args, capture_output=True, text=True, timeout=RUN_TIMEOUT)

    def test_every_subscriber_gets_every_message_once_in_order_and_resumes_without_loss(self):
        srv = harness.start_server(self)
        org, key = srv.org_with_key("sales_rep")  # reads and writes leads
        run = self.check(srv, key)
        self.assertEqual(run.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (run.stdout, run.stderr))
        s = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertTrue(s["ok"])
        self.assertEqual((s["subscribers"], s["leads"], s["writes"], s["writes_ok"]),
                         (SUBSCRIBERS, LEADS, WRITES, WRITES))
        self.assertEqual(s["messages_per_subscriber"], WRITES)
        self.assertEqual(s["delivered"], SUBSCRIBERS * WRITES)
        # A fresh org: its leads' lead.created messages took seqs 1..LEADS.
        self.assertEqual((s["first_seq"], s["last_seq"]), (LEADS + 1, LEADS + WRITES))
        r = s["resume"]
        self.assertEqual(r["resumed_from"], r["closed_after_seq"])
        self.assertGreater(r["writes_while_away"], 0)
        # Each write acknowledged while it was away can only have come by the
        # replay, except the few in flight when its close completed.
        self.assertGreaterEqual(r["replayed"], r["writes_while_away"] - CONNECTIONS)

    def test_the_check_fails_when_a_resume_cannot_be_served(self):
        # 50 messages of replay window: the resume after 250 writes gets a gap.
        srv = harness.start_server(self, extra_args=("--set", "stream.replay_window=50"))
        org, key = srv.org_with_key("admin")
        run = self.check(srv, key)
        self.assertEqual(run.returncode, 1, "stdout:\n%s\nstderr:\n%s" % (run.stdout, run.stderr))
        self.assertIn("FAILED: subscriber 0: unexpected message: {\"type\":\"gap\"", run.stderr)
        self.assertEqual(run.stdout, "")


if __name__ == "__main__":
    unittest.main()
