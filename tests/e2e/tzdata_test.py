#!/usr/bin/python3
"""A replay on a host with another tz database gives the same bytes (issue 18, part 4).

The real saalbuchd writes the demo tenant (Europe/Berlin; bookings,
invoices, payments, journal entries) and stops. `saalbuch-replay state
--journal` and `export` run once with the host's tz database, then again in
a mount namespace of this test's own where /usr/share/zoneinfo is replaced
by one compiled with zic in which Europe/Berlin is UTC+12 all year: local
times, journal dates and booking months would move by hours or a day if the
replay asked the host. Record 1 of the tenant carries the offsets it was
decided with (TenantCreated.zone_rules), so both runs must print the same
bytes. The fake database is checked to be in effect (date(1) says +1200).

Runs as root of a user and mount namespace of its own (`unshare`), or as
root in a private mount namespace: the host's zoneinfo is never touched.

Usage: tzdata_test.py SAALBUCHD SAALBUCH_REPLAY
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SAALBUCHD, REPLAY = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


if os.environ.get("SAALBUCH_TZDATA_TEST_NS") != "1":
    unshare = shutil.which("unshare")
    if unshare is None:
        sys.exit("unshare(1) is missing: cannot give the replay a tz database of its own")
    args = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        args[1:1] = ["--user", "--map-root-user"]
    os.environ["SAALBUCH_TZDATA_TEST_NS"] = "1"
    os.execv(unshare, args + [sys.executable] + sys.argv)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replay(*args):
    r = subprocess.run([REPLAY, "-q"] + list(args), capture_output=True)
    if r.returncode != 0:
        print(r.stderr.decode(errors="replace"), file=sys.stderr)
    return r.returncode, r.stdout


work = tempfile.mkdtemp(prefix="saalbuch-tzdata-")
data = os.path.join(work, "data")
try:
    # 1. The demo tenant, written with the host's tz database.
    port = free_port()
    server = subprocess.Popen([SAALBUCHD, "--data", data, "--listen", f"127.0.0.1:{port}", "--demo"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "ab"))
    deadline = time.time() + 30
    head = 0
    while time.time() < deadline and head < 10:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    head = 10
        except Exception:
            time.sleep(0.2)
    # Bookings with invoices (journal entries), three weeks ahead.
    with open(os.path.join(data, "demo-admin.key")) as f:
        admin = f.read().strip()
    start = datetime.datetime.now(datetime.timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    start += datetime.timedelta(days=21)
    for i in range(3):
        body = json.dumps({"resource": "grosser-saal", "start": (start + datetime.timedelta(hours=3 * i)).isoformat(),
                           "end": (start + datetime.timedelta(hours=3 * i + 1)).isoformat(),
                           "contact": {"name": f"Verein {i}", "email": f"verein{i}@example.org"}}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/tenants/buergerhaus/bookings", data=body,
                                     method="POST", headers={"Authorization": f"Bearer {admin}",
                                                             "Content-Type": "application/json",
                                                             "Idempotency-Key": f"tzdata-test-booking-{i:04d}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            check(r.status == 201, f"booking {i} placed")
    server.terminate()
    check(server.wait(timeout=30) == 0, "saalbuchd wrote the demo tenant and stopped cleanly")

    # The demo books from two weeks ahead; a window holds at most 62 days.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    window = ["--from", f"{today}T00:00:00Z", "--to", f"{today + datetime.timedelta(days=60)}T00:00:00Z"]

    def outputs():
        rc1, state = replay("state", "--data", data, "--tenant", "buergerhaus", "--journal", *window)
        rc2, export = replay("export", "--data", data, "--tenant", "buergerhaus")
        rc3, verify = replay("verify", "--data", data, "--tenant", "buergerhaus")
        return (rc1, rc2, rc3), state, export

    rcs, state_host, export_host = outputs()
    check(rcs == (0, 0, 0), f"state, export and verify succeed on the host's tz database {rcs}")
    doc = json.loads(state_host)
    journal = doc.get("accounts", {}).get("journal", [])
    check(len(journal) > 0, f"the demo has journal entries ({len(journal)})")
    bookings = sum(len(r.get("items", [])) for r in doc.get("bookings", {}).values())
    check(bookings > 0, f"the window holds bookings ({bookings})")
    check("+01:00" in state_host.decode() or "+02:00" in state_host.decode(),
          "local times come out in Berlin's offsets")

    # 2. Another tz database: Europe/Berlin at UTC+12 all year.
    fake = os.path.join(work, "zoneinfo")
    source = os.path.join(work, "fake.zi")
    with open(source, "w") as f:
        f.write("Zone Europe/Berlin 12:00 - +12\nZone Etc/UTC 0 - UTC\nLink Etc/UTC UTC\n")
    subprocess.run(["zic", "-d", fake, source], check=True)
    subprocess.run(["mount", "--bind", fake, "/usr/share/zoneinfo"], check=True)
    shown = subprocess.run(["date", "+%z"], env=dict(os.environ, TZ="Europe/Berlin"), capture_output=True,
                           text=True).stdout.strip()
    check(shown == "+1200", f"the replaced tz database is in effect (Europe/Berlin is {shown})")

    rcs, state_fake, export_fake = outputs()
    check(rcs == (0, 0, 0), f"state, export and verify succeed on the other tz database {rcs}")
    check(state_fake == state_host, "state --journal prints the same bytes with another tz database")
    check(export_fake == export_host, "export prints the same bytes with another tz database")
    subprocess.run(["umount", "/usr/share/zoneinfo"], check=False)
finally:
    shutil.rmtree(work, ignore_errors=True)

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("tzdata: all checks passed")
