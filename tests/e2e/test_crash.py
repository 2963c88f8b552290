# The crash test: with the default sync durability, 8 writer threads create,
# patch and post events over keep-alive connections while the server is
# killed with SIGKILL after a random 1-3 s. After a restart on the same data
# directory every acknowledged (2xx) create exists with the acknowledged
# values (the latest acknowledged patch wins; a patch in flight at the kill
# may or may not be there), each lead's event count lies between the
# acknowledged events and those plus the ones in flight, and no lead exists
# that nobody tried to create. Three kill cycles on the same directory.
import http.client
import json
import random
import threading
import time
import unittest

import harness

WRITERS = 8
CYCLES = 3
STATUSES = ["new", "contacted", "qualified", "unqualified", "converted", "lost"]


class LeadModel:
    def __init__(self, lead_id, state):
        self.id = lead_id
        self.state = state            # the acknowledged field values
        self.events = 0               # acknowledged events
        self.maybe_patch = None       # a patch sent but not acknowledged
        self.maybe_events = 0         # events sent but not acknowledged


class Writer(threading.Thread):
    """Writes until its connection fails (the kill); owns its leads."""

    def __init__(self, srv, key, index, cycle, leads, seed):
        super().__init__(daemon=True)
        self.srv, self.key, self.index, self.cycle = srv, key, index, cycle
        self.leads = leads            # this writer's LeadModel list, kept across cycles
        self.rng = random.Random(seed)
        self.pending_creates = []     # emails of creates sent but not acknowledged
        self.acked = 0
        self.problems = []            # unexpected answers (4xx, 5xx other than 503)
        self.stop = threading.Event()
        self.seq = 0

    def send(self, conn, method, path, body):
        conn.request(method, path, body=json.dumps(body),
                     headers={"Authorization": "Bearer " + self.key,
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        return r.status, data

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        try:
            for _ in range(1000000):
                if self.stop.is_set():
                    return
                self.seq += 1
                roll = self.rng.random()
                if not self.leads or roll < 0.3:
                    if not self.create(conn):
                        return
                elif roll < 0.65:
                    if not self.patch(conn, self.rng.choice(self.leads)):
                        return
                else:
                    if not self.event(conn, self.rng.choice(self.leads)):
                        return
        finally:
            conn.close()

    def unexpected(self, what, status, data):
        if status != 503:
            self.problems.append("%s answered %s: %s" % (what, status, data[:300]))

    def create(self, conn):
        email = "w%d-c%d-%d@crash.test" % (self.index, self.cycle, self.seq)
        state = {"email": email, "first_name": "c%d" % self.seq, "status": "new",
                 "attributes": {"v": 0, "w": self.index}}
        self.pending_creates.append(email)
        try:
            status, data = self.send(conn, "POST", "/v1/leads", state)
        except harness.CONNECTION_ERRORS:
            return False
        if status != 201:
            self.unexpected("create", status, data)
            return status == 503
        self.pending_creates.remove(email)
        lead = json.loads(data)
        self.leads.append(LeadModel(lead["id"], state))
        self.acked += 1
        return True

    def patch(self, conn, lead):
        patch = {"first_name": "p%d-%d" % (self.cycle, self.seq),
                 "status": self.rng.choice(STATUSES), "attributes": {"v": self.seq}}
        lead.maybe_patch = patch
        try:
            status, data = self.send(conn, "PATCH", "/v1/leads/" + lead.id, patch)
        except harness.CONNECTION_ERRORS:
            return False
        if status != 200:
            self.unexpected("patch", status, data)
            return status == 503
        lead.maybe_patch = None
        lead.state = {"email": lead.state["email"], "first_name": patch["first_name"],
                      "status": patch["status"],
                      "attributes": dict(lead.state["attributes"], v=self.seq)}
        self.acked += 1
        return True

    def event(self, conn, lead):
        lead.maybe_events += 1
        try:
            status, data = self.send(conn, "POST", "/v1/leads/%s/events" % lead.id,
                                     {"type": "crash_probe", "properties": {"seq": self.seq}})
        except harness.CONNECTION_ERRORS:
            return False
        if status != 201:
            self.unexpected("event", status, data)
            return status == 503
        lead.maybe_events -= 1
        lead.events += 1
        self.acked += 1
        return True


def visible(lead):
    return {"email": lead["email"], "first_name": lead["first_name"],
            "status": lead["status"], "attributes": lead["attributes"]}


def apply_patch(state, patch):
    return {"email": state["email"], "first_name": patch["first_name"],
            "status": patch["status"], "attributes": dict(state["attributes"],
                                                          **patch["attributes"])}


class CrashTest(harness.ServerTestCase):
    def test_kill_9_under_load_loses_no_acknowledged_write(self):
        srv = harness.start_server(self)
        org, key = srv.org_with_key("sales_rep")
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        print("crash test seed", seed, flush=True)
        rng.seed(seed)
        models = [[] for _ in range(WRITERS)]
        for cycle in range(CYCLES):
            writers = [Writer(srv, key, i, cycle, models[i], rng.randrange(1 << 30))
                       for i in range(WRITERS)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(1.0, 3.0))
            self.assertTrue(srv.running(), "the server died on its own under load; stderr:\n"
                            + srv.stderr_text()[-3000:])
            srv.kill9()
            for w in writers:
                w.join(20)
            for w in writers:
                w.stop.set()
                w.join(5)
                self.assertFalse(w.is_alive(), "a writer thread hangs")
            problems = [p for w in writers for p in w.problems]
            self.assertEqual(problems, [], "unexpected answers during the load")
            acked = sum(w.acked for w in writers)
            self.assertGreater(acked, 20, "too little load before the kill (cycle %d)" % cycle)
            srv.start()
            self.verify(srv, key, writers, models, cycle)
            print("cycle %d: %d acknowledged writes, %d leads, verified"
                  % (cycle, acked, sum(len(m) for m in models)), flush=True)

    def verify(self, srv, key, writers, models, cycle):
        leads, _ = srv.list_all(key)
        on_server = {l["id"]: l for l in leads}
        self.assertEqual(len(on_server), len(leads), "the list repeated a lead")
        known = {m.id for ms in models for m in ms}
        pending_emails = {e for w in writers for e in w.pending_creates}
        # No phantom leads: every lead is acknowledged or was being created.
        for lid, lead in on_server.items():
            if lid not in known:
                self.assertIn(lead["email"], pending_emails,
                              "cycle %d: lead %s was never created by a writer" % (cycle, lid))
        lost = [m.id for ms in models for m in ms if m.id not in on_server]
        self.assertEqual(lost, [], "cycle %d: acknowledged creates lost after kill -9" % cycle)
        for ms in models:
            for m in ms:
                got = on_server[m.id]
                allowed = [m.state]
                if m.maybe_patch is not None:
                    allowed.append(apply_patch(m.state, m.maybe_patch))
                self.assertIn(visible(got), allowed,
                              "cycle %d: lead %s lost an acknowledged patch" % (cycle, m.id))
                n = got["activity"]["events"]
                self.assertGreaterEqual(n, m.events,
                                        "cycle %d: lead %s lost acknowledged events"
                                        % (cycle, m.id))
                self.assertLessEqual(n, m.events + m.maybe_events,
                                     "cycle %d: lead %s has events nobody sent" % (cycle, m.id))
                if n:
                    self.assertEqual(got["activity"]["by_type"]["crash_probe"]["count"], n)
                # What the server has now is the truth the next cycle builds on.
                m.state, m.events = visible(got), n
                m.maybe_patch, m.maybe_events = None, 0
        # Leads whose create was in flight and did land join the model.
        for i, w in enumerate(writers):
            for lead in on_server.values():
                if lead["id"] not in known and lead["email"] in w.pending_creates:
                    m = LeadModel(lead["id"], visible(lead))
                    m.events = lead["activity"]["events"]
                    models[i].append(m)


if __name__ == "__main__":
    unittest.main()
