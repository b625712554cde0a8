#!/usr/bin/env python3
"""A simulated smart-lock provider: door codes per key, valid at an access
point over a window, issued, changed and revoked over HTTP. In memory only;
for tests and demos, never for real doors.

The protocol is described in README.md beside this file.
Standard library only (Debian 12's python3).
"""

import argparse
import datetime
import json
import os
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
MAX_STRING = 200


class ApiError(Exception):
    """An HTTP error answer with a JSON {"error": message} body."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_time(value, field):
    """An RFC 3339 UTC time ("…Z") as a datetime, else a 422."""
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ApiError(422, "%s must be an RFC 3339 UTC time" % field)
    try:
        return datetime.datetime.fromisoformat(value[:-1]).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise ApiError(422, "%s must be an RFC 3339 UTC time" % field) from None


class Locks:
    """The codes, by key. One lock guards everything; calls are short."""

    def __init__(self, access_points):
        self.access_points = access_points  # None: any
        self.codes = {}  # key -> dict
        self.mu = threading.Lock()
        self.fail = []  # statuses for the next calls, consumed in order
        self.stall = 0.0  # seconds the next issue waits after acting

    def _request(self, body, need_window):
        key = body.get("key")
        if not isinstance(key, str) or not key or len(key) > MAX_STRING:
            raise ApiError(422, "key must be a string of 1 to 200 characters")
        if not need_window:
            return key, None, None, None
        point = body.get("access_point")
        if not isinstance(point, str) or not point or len(point) > MAX_STRING:
            raise ApiError(422, "access_point must be a string of 1 to 200 characters")
        if self.access_points is not None and point not in self.access_points:
            raise ApiError(422, "unknown access point %s" % point)
        start = parse_time(body.get("valid_from"), "valid_from")
        end = parse_time(body.get("valid_to"), "valid_to")
        if end <= start:
            raise ApiError(422, "valid_to must be after valid_from")
        return key, point, body["valid_from"], body["valid_to"]

    def issue(self, body):
        key, point, start, end = self._request(body, True)
        with self.mu:
            c = self.codes.get(key)
            if c is None or c["revoked"]:
                c = {
                    "key": key,
                    "grant": "g_" + secrets.token_hex(8),
                    "code": "%06d" % secrets.randbelow(1000000),
                    "access_point": point,
                    "valid_from": start,
                    "valid_to": end,
                    "revoked": False,
                    "issued": (c["issued"] if c else 0) + 1,
                    "changed": 0,
                }
                self.codes[key] = c
            stall, self.stall = self.stall, 0.0
            answer = dict(c)
        if stall:
            time.sleep(stall)
        return answer

    def change(self, body):
        key, point, start, end = self._request(body, True)
        with self.mu:
            c = self.codes.get(key)
            if c is None or c["revoked"]:
                raise ApiError(404, "no code under this key")
            if (c["access_point"], c["valid_from"], c["valid_to"]) != (point, start, end):
                c.update(access_point=point, valid_from=start, valid_to=end)
                c["changed"] += 1
            return dict(c)

    def revoke(self, body):
        key, _, _, _ = self._request(body, False)
        with self.mu:
            c = self.codes.get(key)
            if c is not None:
                c["revoked"] = True
            return {"key": key, "revoked": True}

    def listing(self):
        with self.mu:
            return {"items": [dict(c) for c in sorted(self.codes.values(), key=lambda c: c["key"])]}

    def take_failure(self):
        with self.mu:
            return self.fail.pop(0) if self.fail else None


class Handler(BaseHTTPRequestHandler):
    locks = None
    api_key = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("locksim: " + (fmt % args) + "\n")

    def _answer(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "body larger than 64 KiB")
        raw = self.rfile.read(length) if length else b""
        try:
            doc = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "body is not JSON") from None
        if not isinstance(doc, dict):
            raise ApiError(400, "body must be a JSON object")
        return doc

    def _authorized(self):
        return self.headers.get("Authorization", "") == "Bearer " + self.api_key

    def do_GET(self):
        try:
            if not self._authorized():
                raise ApiError(401, "missing or wrong API key")
            if self.path != "/v1/codes":
                raise ApiError(404, "no such path")
            self._answer(200, self.locks.listing())
        except ApiError as e:
            self._answer(e.status, {"error": e.message})

    def do_POST(self):
        try:
            body = self._body()
            if self.path == "/control/fail":
                # The next `count` API calls are answered `status` without acting.
                with self.locks.mu:
                    self.locks.fail = [int(body.get("status", 503))] * int(body.get("count", 1))
                return self._answer(200, {"ok": True})
            if self.path == "/control/stall":
                # The next issue acts, then waits `seconds` before it answers.
                with self.locks.mu:
                    self.locks.stall = float(body.get("seconds", 5))
                return self._answer(200, {"ok": True})
            if not self._authorized():
                raise ApiError(401, "missing or wrong API key")
            actions = {"/v1/codes/issue": self.locks.issue,
                       "/v1/codes/change": self.locks.change,
                       "/v1/codes/revoke": self.locks.revoke}
            action = actions.get(self.path)
            if action is None:
                raise ApiError(404, "no such path")
            failure = self.locks.take_failure()
            if failure is not None:
                raise ApiError(failure, "simulated failure")
            answer = action(body)
            answer.pop("issued", None)
            answer.pop("changed", None)
            self._answer(200, answer)
        except ApiError as e:
            self._answer(e.status, {"error": e.message})
        except (BrokenPipeError, ConnectionResetError):
            pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--api-key", default=os.environ.get("LOCKSIM_API_KEY", "locksim-key"))
    p.add_argument("--access-points", help="comma-separated ids of the known doors (default: any)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    points = set(args.access_points.split(",")) if args.access_points else None
    Handler.locks = Locks(points)
    Handler.api_key = args.api_key
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    print("listening on http://%s:%d" % (args.host, port), flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
