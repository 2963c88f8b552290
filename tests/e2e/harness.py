# Shared helpers for the end-to-end tests: `Server` starts the real hotlead
# binary ($HOTLEAD_BIN) on a free loopback port with a fresh data directory,
# waits for /readyz, and drives it over HTTP (keep-alive, bounded timeouts).
# `ServerTestCase` adds problem+json assertions. Stdlib only.
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

REQUEST_TIMEOUT = 10.0
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 20.0

ID_RE = re.compile(r"^[0-9a-f]{16}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# Errors that mean "the connection is gone", not "the server answered".
CONNECTION_ERRORS = (http.client.HTTPException, OSError)
# A keep-alive connection the server closed while idle: the request never
# reached the server, so it is safe to send it again on a new connection.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError,
                           ConnectionResetError, ConnectionAbortedError)


def binary():
    path = os.environ.get("HOTLEAD_BIN")
    if not path:
        raise unittest.SkipTest("HOTLEAD_BIN is not set")
    if not os.access(path, os.X_OK):
        raise RuntimeError("HOTLEAD_BIN=%s is not an executable file" % path)
    return path


def free_port():
    """A loopback port nobody listens on right now."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        # hotlead listens with SO_REUSEPORT: make sure no other server holds it.
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return port
        finally:
            probe.close()
    raise RuntimeError("no free loopback port found")


def without_read_time(value):
    """Lead objects carry their score as of the read ("computed_at" is the
    read's time), so two reads of an unchanged lead differ in it alone. Lead
    objects (dicts with "id" and "score") come back without it, so tests can
    compare leads; score objects read on their own keep it."""
    if isinstance(value, dict):
        if "id" in value and isinstance(value.get("score"), dict):
            value["score"].pop("computed_at", None)
        for v in value.values():
            if isinstance(v, (dict, list)):
                without_read_time(v)
    elif isinstance(value, list):
        for v in value:
            without_read_time(v)
    return value


def parse_body(headers, data):
    ctype = headers.get("Content-Type", "") or ""
    if "json" in ctype and data:
        try:
            return without_read_time(json.loads(data.decode("utf-8")))
        except ValueError:
            return data.decode("utf-8", "replace")
    return data.decode("utf-8", "replace")


class RawResponse:
    """A response read off a raw socket (pipelining, slow clients, ...)."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict, lower-case names
        self.body = body

    def json(self):
        return without_read_time(json.loads(self.body.decode("utf-8")))


def read_raw_response(reader):
    """Reads one HTTP/1.1 response (Content-Length framed) from a binary file
    object made with sock.makefile('rb'). Returns None on a clean EOF before
    the status line."""
    line = reader.readline(65536)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError("bad status line %r" % line)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = {}
    for _ in range(200):
        h = reader.readline(65536)
        if not h:
            raise ValueError("EOF inside the response headers")
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ValueError("too many response headers")
    n = int(headers.get("content-length", "0"))
    body = reader.read(n) if n else b""
    if len(body) != n:
        raise ValueError("response body truncated: %d of %d bytes" % (len(body), n))
    return RawResponse(status, reason, headers, body)


def raw_request_bytes(method, path, body=b"", headers=None, host="127.0.0.1"):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % host]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    if body or method in ("POST", "PATCH", "PUT"):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Server:
    """One hotlead process owned by a test. Always call stop() (or use
    start_server(), which registers the cleanup)."""

    def __init__(self, extra_args=(), demo=False, data_dir=None, port=None):
        self.bin = binary()
        self.dir = tempfile.mkdtemp(prefix="hotlead-e2e-")
        self.data = data_dir or os.path.join(self.dir, "data")
        self.extra_args = list(extra_args)
        self.demo = demo
        self.root_key = "e2e-root-" + secrets.token_hex(12)
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        self._local = threading.local()
        self._conns = []
        self._conns_lock = threading.Lock()
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")

    # -- process ------------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def args(self):
        a = [self.bin, "serve", "--port", str(self.port), "--data", self.data,
             "--bootstrap-key", self.root_key]
        if not self.demo:
            a.append("--no-demo")
        return a + self.extra_args

    def start(self, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        first = self.starts == 0
        for attempt in range(3):
            out = open(self.stdout_path, "ab")
            err = open(self.stderr_path, "ab")
            try:
                env = dict(os.environ)
                env.pop("HOTLEAD_BOOTSTRAP_KEY", None)
                env.update(getattr(self, "env_extra", {}))  # what a test sets on purpose
                # cwd = the temp dir, so no stray cluster.conf is picked up.
                self.proc = subprocess.Popen(self.args(), stdout=out, stderr=err,
                                             stdin=subprocess.DEVNULL, cwd=self.dir, env=env,
                                             start_new_session=True)
            finally:
                out.close()
                err.close()
            self.starts += 1
            if not wait:
                return
            try:
                self.wait_ready()
                return
            except RuntimeError:
                # Lost a race for the port on the very first start: pick another.
                if (first and attempt < 2 and self.proc.poll() is not None
                        and "cannot listen" in self.stderr_text()):
                    self.port = free_port()
                    continue
                raise

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hotlead exited with %s before it was ready; stderr:\n%s"
                                   % (self.proc.returncode, self.stderr_text()[-4000:]))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    c.request("GET", "/readyz")
                    r = c.getresponse()
                    r.read()
                    last = r.status
                    if r.status == 200:
                        return
                finally:
                    c.close()
            except CONNECTION_ERRORS as e:
                last = repr(e)
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("hotlead was not ready within %.0f s (last: %s); stderr:\n%s"
                           % (timeout, last, self.stderr_text()[-4000:]))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait (bounded), then SIGKILL. Returns the exit code."""
        self.close_connections()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def kill9(self):
        self.close_connections()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        return self.proc.returncode

    def restart(self):
        """Stops (gracefully) and starts again on the same port and data dir."""
        self.stop()
        self.start()

    def cleanup(self):
        try:
            self.kill9()
        finally:
            if os.environ.get("HOTLEAD_E2E_KEEP"):
                print("kept", self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout_text(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- HTTP -----------------------------------------------------------------------

    def connection(self, timeout=REQUEST_TIMEOUT):
        """A new keep-alive connection (the caller closes it)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def _thread_conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self.connection()
            self._local.conn = c
            self._local.used = False
            with self._conns_lock:
                self._conns.append(c)
        return c

    def close_connections(self):
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except Exception:
                pass
        self._local = threading.local()

    def request(self, method, path, body=None, key=None, headers=None, raw_body=None,
                content_type="application/json"):
        """One request on this thread's keep-alive connection.
        Returns (status, headers, parsed JSON body or text)."""
        h = {}
        if key is not None:
            h["Authorization"] = "Bearer " + key
        data = None
        if raw_body is not None:
            data = raw_body if isinstance(raw_body, bytes) else raw_body.encode("utf-8")
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
        if data is not None and content_type:
            h["Content-Type"] = content_type
        if headers:
            h.update(headers)
        for attempt in (0, 1):
            c = self._thread_conn()
            reused = self._local.used
            try:
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                payload = r.read()
            except CONNECTION_ERRORS as e:
                c.close()
                self._local.conn = None
                # An idle keep-alive connection the server closed (header
                # timeout): the request never reached it, so one retry is safe.
                if reused and attempt == 0 and isinstance(e, STALE_CONNECTION_ERRORS):
                    continue
                raise
            self._local.used = True
            if r.will_close:
                c.close()
                self._local.conn = None
            return r.status, r.headers, parse_body(r.headers, payload)
        raise AssertionError("unreachable")

    def raw_socket(self, timeout=REQUEST_TIMEOUT):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    # -- tenancy shortcuts -------------------------------------------------------------

    def make_org(self, name, **fields):
        body = dict(name=name, **fields)
        status, _, org = self.request("POST", "/v1/orgs", body, key=self.root_key)
        if status != 201:
            raise AssertionError("POST /v1/orgs answered %s: %s" % (status, org))
        return org["id"]

    def make_key(self, org_id, role, key=None):
        status, _, k = self.request("POST", "/v1/orgs/%s/keys" % org_id, {"role": role},
                                    key=key or self.root_key)
        if status != 201:
            raise AssertionError("POST /v1/orgs/%s/keys answered %s: %s" % (org_id, status, k))
        return k["key"]

    def org_with_key(self, role="admin", name=None):
        org = self.make_org(name or "org-" + secrets.token_hex(4))
        return org, self.make_key(org, role)

    def create_lead(self, key, fields):
        status, _, lead = self.request("POST", "/v1/leads", fields, key=key)
        if status != 201:
            raise AssertionError("POST /v1/leads answered %s: %s" % (status, lead))
        return lead

    def get_lead(self, key, lead_id):
        status, _, lead = self.request("GET", "/v1/leads/" + lead_id, key=key)
        if status != 200:
            raise AssertionError("GET /v1/leads/%s answered %s: %s" % (lead_id, status, lead))
        return lead

    def list_all(self, key, query="", limit=1000, max_pages=1000):
        """Walks every page of GET /v1/leads; returns (leads, pages)."""
        out, pages, cursor = [], 0, None
        sep = "&" if query else ""
        while pages < max_pages:
            q = "%s%slimit=%d" % (query, sep, limit)
            if cursor:
                q += "&cursor=" + cursor
            status, _, page = self.request("GET", "/v1/leads?" + q, key=key)
            if status != 200:
                raise AssertionError("GET /v1/leads?%s answered %s: %s" % (q, status, page))
            pages += 1
            out.extend(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                return out, pages
        raise AssertionError("more than %d pages" % max_pages)

    def wait_job(self, key, job_id, timeout=60):
        """The job once it is no longer running (GET /v1/jobs/{id})."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, job = self.request("GET", "/v1/jobs/" + job_id, key=key)
            if status != 200:
                raise AssertionError("GET /v1/jobs/%s answered %s: %s" % (job_id, status, job))
            if job["state"] != "running":
                return job
            time.sleep(0.05)
        raise AssertionError("job %s still running after %ss" % (job_id, timeout))

    def metrics(self):
        status, _, text = self.request("GET", "/metrics")
        if status != 200:
            raise AssertionError("GET /metrics answered %s" % status)
        return text


def metric_values(text, name):
    """{labels string: value} for one metric name in Prometheus text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)$', line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


def wait_for(pred, timeout=30, what="condition"):
    """pred()'s first truthy value, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("%s not met within %ss" % (what, timeout))


def start_server(test, **kw):
    """Starts a Server whose process and temp dir `test` (a TestCase or a
    TestCase class, for setUpClass) cleans up even when the test fails."""
    srv = Server(**kw)
    if isinstance(test, type):
        test.addClassCleanup(srv.cleanup)
    else:
        test.addCleanup(srv.cleanup)
    srv.start()
    return srv


class ServerTestCase(unittest.TestCase):
    maxDiff = 4000

    def assertProblem(self, res, status, code, msg=None):
        """`res` is (status, headers, body) from Server.request."""
        got_status, headers, body = res
        ctx = " (%s)" % msg if msg else ""
        self.assertEqual(got_status, status, "status%s; body: %r" % (ctx, body))
        ctype = headers.get("Content-Type", "")
        self.assertTrue(ctype.startswith("application/problem+json"),
                        "Content-Type %r%s" % (ctype, ctx))
        self.assertIsInstance(body, dict, "problem body%s: %r" % (ctx, body))
        self.assertEqual(body.get("code"), code, "problem code%s: %r" % (ctx, body))
        self.assertEqual(body.get("status"), status, "problem status%s: %r" % (ctx, body))
        self.assertEqual(body.get("type"), "https://hotlead.dev/problems/" + code,
                         "problem type%s" % ctx)
        self.assertTrue(body.get("title"), "problem title%s" % ctx)
        self.assertTrue(body.get("detail"), "problem detail%s" % ctx)
        return body

    def assertStatus(self, res, status, msg=None):
        self.assertEqual(res[0], status, "%s: body %r" % (msg or "status", res[2]))
        return res[2]


class OrgTestCase(ServerTestCase):
    """One server per test class, a fresh org with an admin key per test,
    and req() that sends that key unless told otherwise."""

    @classmethod
    def setUpClass(cls):
        cls.srv = start_server(cls)

    def setUp(self):
        self.org, self.key = self.srv.org_with_key("admin")

    def req(self, method, path, body=None, **kw):
        kw.setdefault("key", self.key)
        return self.srv.request(method, path, body, **kw)
