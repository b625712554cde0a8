#!/usr/bin/python3
"""A full disk under saalbuchd, on a real small filesystem (issue 17, part 1).

Mounts a 32 MiB tmpfs (as root, or as root of a user and mount namespace of
its own via `unshare`, so that no privilege is needed) and runs the real
saalbuchd on it while bookings arrive:

1. With a free-space reserve (--min-free-bytes): once less is free, commands
   get 503 storage_unavailable with Retry-After while queries are served, a
   metric and an error line say so, and commands are taken again by
   themselves once space is freed.
2. Without a reserve, RocksDB itself meets the full disk: the process stays
   up (it used to abort in Debian's librocksdb), queries are served, and
   once space returns the other tenants write again.
3. Started on a full disk without a ballast file, it exits with a clear
   error instead of aborting. With one (--space-ballast-bytes, laid while
   space allowed), it releases the ballast, starts, serves queries and
   refuses commands; once space is freed it takes commands again by itself
   and lays the ballast again. Every acknowledged booking is there and the
   chain verifies.

Usage: disk_full_test.py SAALBUCHD SAALBUCH_REPLAY
"""
import datetime
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SAALBUCHD, REPLAY = sys.argv[1], sys.argv[2]
OPERATOR = "operator-key-for-the-disk-full-test"
MiB = 1024 * 1024
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


if os.geteuid() != 0:
    # Root of a namespace of our own may mount a tmpfs there.
    unshare = shutil.which("unshare")
    if unshare is None:
        sys.exit("neither root nor unshare(1): cannot mount the small filesystem")
    os.execv(unshare, [unshare, "--user", "--map-root-user", "--mount", sys.executable] + sys.argv)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Saalbuchd:
    def __init__(self, data, log, extra):
        self.port = free_port()
        self.log = log
        env = dict(os.environ, SAALBUCH_OPERATOR_KEY=OPERATOR)
        self.proc = subprocess.Popen([SAALBUCHD, "--data", data, "--listen", f"127.0.0.1:{self.port}",
                                      "--rate-limit", "100000"] + extra,
                                     stdout=subprocess.DEVNULL, stderr=open(log, "ab"), env=env)

    def wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def call(self, method, path, body=None, key=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}
        except (OSError, http.client.HTTPException) as e:
            # The process died or closed the connection: no status at all.
            return 0, repr(e), {}

    def metric(self, name):
        _, text, _ = self.call("GET", "/metrics", key=OPERATOR)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=30)


class Bookings:
    """Books one-hour slots one after another, with a long note so that the
    disk fills quickly; remembers every acknowledged booking."""

    def __init__(self, admin):
        self.admin = admin
        self.next = datetime.datetime(2027, 1, 4, tzinfo=datetime.timezone.utc)
        self.acknowledged = []

    def book(self, server):
        start = self.next
        self.next += datetime.timedelta(hours=1)
        status, text, headers = server.call("POST", "/v1/tenants/ort/bookings", {
            "resource": "saal", "start": start.isoformat(),
            "end": (start + datetime.timedelta(minutes=45)).isoformat(),
            "contact": {"name": "Erika Muster", "email": "erika@example.org", "notes": "Bühne. " * 250}},
            key=self.admin)
        if status == 201:
            self.acknowledged.append(json.loads(text)["id"])
        return status, text, headers

    def until_refused(self, server, most=20000):
        for _ in range(most):
            status, text, headers = self.book(server)
            if status != 201:
                return status, text, headers
        return 201, "", {}

    def until_taken(self, server, seconds=15):
        """Books until one is taken (space was freed); returns the last status."""
        deadline, status = time.time() + seconds, 0
        while time.time() < deadline and status != 201:
            status = self.book(server)[0]
            time.sleep(0.1)
        return status


def fill(path, leave):
    """Writes a file that leaves about `leave` bytes free."""
    fs = os.statvfs(os.path.dirname(path))
    size = max(0, fs.f_bavail * fs.f_frsize - leave)
    with open(path, "wb") as f:
        while size > 0:
            try:
                f.write(b"\0" * min(size, MiB))
            except OSError:
                break
            size -= MiB


def log_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def main():
    work = tempfile.mkdtemp(prefix="saalbuch-disk-full-")
    small = os.path.join(work, "fs")
    os.makedirs(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", small], check=True)
    data, filler, log = os.path.join(small, "data"), os.path.join(small, "filler"), os.path.join(work, "saalbuchd.log")
    servers = []
    try:
        # 1. The reserve refuses commands before the disk is full.
        server = Saalbuchd(data, log, ["--min-free-bytes", str(8 * MiB)])
        servers.append(server)
        check(server.wait_ready(), "saalbuchd starts on the small filesystem")
        status, text, _ = server.call("POST", "/v1/tenants", {"id": "ort", "name": "Ort"}, key=OPERATOR)
        admin = json.loads(text)["admin_key"]["key"]
        server.call("POST", "/v1/tenants/ort/resources", {"id": "saal", "name": "Saal"}, key=admin)
        bookings = Bookings(admin)
        fill(filler, 11 * MiB)
        status, text, headers = bookings.until_refused(server)
        problem = json.loads(text) if text.startswith("{") else {}
        check(status == 503 and problem.get("code") == "storage_unavailable"
              and problem.get("details", {}).get("reason") == "disk_space_low",
              f"below the reserve a booking gets 503 storage_unavailable ({status} {text[:160]})")
        check(headers.get("retry-after") == "10", f"with Retry-After ({headers.get('retry-after')})")
        check(len(bookings.acknowledged) > 50, f"{len(bookings.acknowledged)} bookings were taken before")
        last = bookings.acknowledged[-1]
        check(server.call("GET", f"/v1/tenants/ort/bookings/{last}", key=admin)[0] == 200,
              "the last acknowledged booking is served")
        check(server.call("GET", "/v1/tenants/ort/resources/saal/availability?from=2027-01-04T00:00:00Z"
                                 "&to=2027-01-05T00:00:00Z")[0] == 200, "availability is served")
        check(server.metric("saalbuch_storage_low") == 1, "saalbuch_storage_low is 1")
        free = server.metric("saalbuch_storage_free_bytes")
        check(free is not None and free < 8 * MiB, f"saalbuch_storage_free_bytes is below it ({free})")
        check("free space below the reserve" in log_text(log), "an error line says so")
        os.remove(filler)
        check(bookings.until_taken(server) == 201, "once space is freed, bookings are taken again by themselves")
        check(server.metric("saalbuch_storage_low") == 0, "saalbuch_storage_low is 0 again")
        check(server.stop() == 0, "a clean stop")
        servers.remove(server)

        # 2. Without a reserve RocksDB meets the full disk; the process lives.
        server = Saalbuchd(data, log, ["--min-free-bytes", "0"])
        servers.append(server)
        check(server.wait_ready(), "saalbuchd starts again")
        fill(filler, 2 * MiB)
        status, text, _ = bookings.until_refused(server)
        check(status == 503, f"on a full disk a booking gets 503 ({status} {text[:160]})")
        time.sleep(0.5)
        check(server.proc.poll() is None, "the process is still running (no abort)")
        check(server.call("GET", "/v1/tenants/ort/resources")[0] == 200, "queries are served on a full disk")
        os.remove(filler)
        deadline, status = time.time() + 30, 0
        while time.time() < deadline and status != 201:
            status, text, _ = server.call("POST", "/v1/tenants", {"id": "neu", "name": "Neu"}, key=OPERATOR)
            time.sleep(0.2)
        check(status == 201, f"once space returns, another tenant writes again ({status} {text[:160]})")
        check(server.stop() == 0, "a clean stop after the full disk")
        servers.remove(server)

        # 3. Started on a full disk: without a ballast, a clear error and no
        # abort; with one, a start that serves queries.
        fill(filler, 0)
        server = Saalbuchd(data, log, ["--min-free-bytes", "0", "--space-ballast-bytes", "0"])
        code = server.proc.wait(timeout=30)
        check(code == 1, f"on a full disk saalbuchd without a ballast exits with 1, not a signal ({code})")
        check("cannot start" in log_text(log) and "No space left" in log_text(log), "and says why")
        os.remove(filler)
        ballast = os.path.join(data, "space-ballast")
        flags = ["--min-free-bytes", str(4 * MiB), "--space-ballast-bytes", str(4 * MiB)]
        server = Saalbuchd(data, log, flags)
        servers.append(server)
        check(server.wait_ready(), "with space again it starts")
        check(os.path.exists(ballast) and os.stat(ballast).st_blocks * 512 >= 4 * MiB,
              "and lays a ballast file of 4 MiB")
        check(oct(os.stat(ballast).st_mode & 0o777) == "0o600", "readable by saalbuchd only")
        check(server.metric("saalbuch_storage_ballast_bytes") == 4 * MiB, "saalbuch_storage_ballast_bytes says so")
        check(server.stop() == 0, "a clean stop")
        servers.remove(server)
        fill(filler, 0)
        server = Saalbuchd(data, log, flags)
        servers.append(server)
        check(server.wait_ready(), "on a full disk with a ballast it starts")
        check(not os.path.exists(ballast), "having released the ballast")
        check("space ballast released" in log_text(log), "and says so")
        check(server.metric("saalbuch_storage_ballast_bytes") == 0, "saalbuch_storage_ballast_bytes is 0")
        check(server.call("GET", f"/v1/tenants/ort/bookings/{last}", key=admin)[0] == 200,
              "it serves queries")
        status, text, _ = bookings.book(server)
        check(status == 503 and "disk_space_low" in text, f"and refuses commands ({status} {text[:160]})")
        os.remove(filler)
        check(bookings.until_taken(server) == 201, "once space is freed, bookings are taken again by themselves")
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(ballast):
            time.sleep(0.1)
        check(os.path.exists(ballast), "and the ballast is laid again")
        missing = [b for b in bookings.acknowledged
                   if server.call("GET", f"/v1/tenants/ort/bookings/{b}", key=admin)[0] != 200]
        check(not missing, f"all {len(bookings.acknowledged)} acknowledged bookings are there ({missing[:5]})")
        check(server.stop() == 0, "a clean stop")
        servers.remove(server)
        verify = subprocess.run([REPLAY, "verify", "--data", data, "--tenant", "ort"], capture_output=True, text=True)
        check(verify.returncode == 0, f"the chain verifies ({verify.stdout.strip()[-200:]} {verify.stderr[-200:]})")
        check("Assertion" not in log_text(log), "no assertion fired")
    finally:
        for s in servers:
            s.proc.kill()
            s.proc.wait()
        subprocess.run(["umount", small], check=False)
        if failures:
            print(log_text(log)[-3000:] if os.path.exists(log) else "")
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


main()
