#!/usr/bin/env python3
"""A simulated payment provider: checkouts, buyer pages, payments, refunds,
signed webhooks with retries, duplicates and reordering, and payouts with a
settlement CSV. In memory only; for tests and demos, never for real money.

The protocol is described as a grammar in README.md beside this file.
Standard library only (Debian 12's python3).
"""

import argparse
import csv
import hashlib
import heapq
import hmac
import html
import io
import itertools
import json
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024          # request bodies, bytes
MAX_STRING = 200              # tenant, reference, number, description
MAX_URL = 2000
MAX_ATTEMPTS = 8              # webhook attempts per delivery, then given up
BACKOFF_BASE = 0.2            # seconds; attempt n+1 waits BACKOFF_BASE * 2^(n-1)
REORDER_WINDOW = 0.5          # seconds; --reorder shuffles events queued within it
DELIVERY_TIMEOUT = 5.0        # seconds per webhook POST
FLUSH_LIMIT = 30.0            # seconds /control/flush waits at most
CURRENCIES = {"EUR"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiError(Exception):
    """An HTTP error answer with a JSON {"error": message} body."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def new_id(prefix):
    return prefix + "_" + secrets.token_hex(12)


def fee_of(amount, fee_bp, fee_fixed):
    # round_half_up(amount * fee_bp / 10000) in integers: no float near money.
    return (amount * fee_bp * 2 + 10000) // 20000 + fee_fixed


def decimal(minor):
    sign = "-" if minor < 0 else ""
    return "%s%d.%02d" % (sign, abs(minor) // 100, abs(minor) % 100)


def sign(secrets_, t, body):
    """The Provider-Signature header value: one v1 per secret (rotation)."""
    parts = ["t=%d" % t]
    for s in secrets_:
        mac = hmac.new(s.encode(), str(t).encode() + b"." + body, hashlib.sha256)
        parts.append("v1=" + mac.hexdigest())
    return ",".join(parts)


# --- validation of request fields ------------------------------------------

def want_string(body, name, limit=MAX_STRING, optional=False):
    v = body.get(name)
    if v is None and optional:
        return ""
    if not isinstance(v, str) or not v:
        raise ApiError(400, "%s: required non-empty string" % name)
    if len(v.encode()) > limit:
        raise ApiError(400, "%s: longer than %d bytes" % (name, limit))
    return v


def want_amount(body, name="amount"):
    v = body.get(name)
    # bool is an int in Python; true is not an amount.
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0 or v > 10**12:
        raise ApiError(400, "%s: required positive integer (minor units)" % name)
    return v


def want_currency(body):
    v = body.get("currency")
    if v not in CURRENCIES:
        raise ApiError(400, "currency: only %s" % ", ".join(sorted(CURRENCIES)))
    return v


def want_url(body, name):
    v = want_string(body, name, limit=MAX_URL)
    u = urllib.parse.urlsplit(v)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ApiError(400, "%s: not an http(s) URL" % name)
    return v


# --- the provider's state ----------------------------------------------------

class Provider:
    """All state, guarded by one lock; webhooks and delayed refunds run on a
    scheduler thread of their own."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.checkouts = {}       # cs_ → dict
        self.payments = {}        # pay_ → dict
        self.refunds = {}         # re_ → dict
        self.payouts = {}         # po_ → {"id", "date", "net", "csv"}
        self.idempotency = {}     # (endpoint, key) → (fingerprint, object id)
        self.settle_order = []    # ("payment"|"refund", id) in completion order, not yet paid out
        self.deliveries = []      # every attempt: {event, type, attempt, status, copy}
        self.delivered = 0
        self.given_up = 0
        self.rng = random.Random(args.seed)
        # The scheduler: a heap of (due, seq, task); `busy` counts tasks being run.
        self.cv = threading.Condition(self.lock)
        self.heap = []
        self.seq = itertools.count()
        self.busy = 0
        self.window_end = 0.0     # --reorder: events queued before it share one batch
        self.stopping = False
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), NoRedirect())
        self.thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self.thread.start()

    # -- scheduler ------------------------------------------------------------

    def _schedule(self, due, task):
        """REQUIRES: self.lock held."""
        heapq.heappush(self.heap, (due, next(self.seq), task))
        self.cv.notify_all()

    def _run(self):
        with self.cv:
            while not self.stopping:
                if not self.heap:
                    self.cv.wait()
                    continue
                due = self.heap[0][0]
                now = time.monotonic()
                if due > now:
                    self.cv.wait(due - now)
                    continue
                batch = [heapq.heappop(self.heap)[2]]
                if self.args.reorder:
                    # Everything due by now goes out in random order: events
                    # queued within the window overtake each other.
                    while self.heap and self.heap[0][0] <= now:
                        batch.append(heapq.heappop(self.heap)[2])
                    self.rng.shuffle(batch)
                self.busy += 1
                self.cv.release()
                try:
                    for task in batch:
                        try:
                            task()
                        except Exception as e:  # a bug must not stop every later delivery
                            sys.stderr.write("payprovider: task failed: %r\n" % (e,))
                finally:
                    self.cv.acquire()
                    self.busy -= 1
                    self.cv.notify_all()

    def stop(self):
        with self.cv:
            self.stopping = True
            self.cv.notify_all()
        # A delivery in flight may hang for DELIVERY_TIMEOUT; the thread is a daemon and dies with us.
        self.thread.join(timeout=1.0)

    def flush(self):
        deadline = time.monotonic() + FLUSH_LIMIT
        with self.cv:
            while (self.heap or self.busy) and time.monotonic() < deadline:
                self.cv.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            pending = sum(1 for _, _, t in self.heap if isinstance(t, Delivery))
            return {"delivered": self.delivered, "pending": pending, "given_up": self.given_up}

    # -- webhooks -------------------------------------------------------------

    def _queue_event(self, type_, data, url):
        """REQUIRES: self.lock held."""
        event = {"id": new_id("evt"), "type": type_, "created": int(time.time()), "data": data}
        due = now = time.monotonic()
        if self.args.reorder:
            # Every event queued within one window is due at its end, so the
            # scheduler takes them as one batch and shuffles it.
            if now >= self.window_end:
                self.window_end = now + REORDER_WINDOW
            due = self.window_end
        for copy in range(1, self.args.duplicates + 1):
            self._schedule(due, Delivery(self, event, url, copy))

    def _deliver(self, d):
        """One attempt of delivery `d`; runs on the scheduler thread, unlocked."""
        d.attempt += 1
        body = json.dumps(d.event, separators=(",", ":")).encode()
        # Signed per attempt, like real providers: the timestamp is fresh.
        header = sign(self.args.webhook_secret, int(time.time()), body)
        req = urllib.request.Request(d.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Provider-Signature": header,
            "User-Agent": "payprovider-sim/1",
        })
        status, error = 0, ""
        try:
            with self.opener.open(req, timeout=DELIVERY_TIMEOUT) as r:
                status = r.status
                r.read(MAX_BODY)
        except urllib.error.HTTPError as e:
            status = e.code
        except (OSError, ValueError) as e:   # URLError, timeouts, resets
            error = str(e) or type(e).__name__
        with self.cv:
            entry = {"event": d.event["id"], "type": d.event["type"], "attempt": d.attempt,
                     "status": status, "copy": d.copy}
            if error:
                entry["error"] = error
            self.deliveries.append(entry)
            if 200 <= status < 300:
                self.delivered += 1
            elif d.attempt >= MAX_ATTEMPTS:
                self.given_up += 1
            else:
                self._schedule(time.monotonic() + BACKOFF_BASE * 2 ** (d.attempt - 1), d)

    # -- API ------------------------------------------------------------------

    def _idempotent(self, endpoint, key, fingerprint):
        """The object id stored under key, or None. REQUIRES: self.lock held."""
        if not key:
            return None
        if len(key) > 255:
            raise ApiError(400, "Idempotency-Key: longer than 255 characters")
        hit = self.idempotency.get((endpoint, key))
        if hit is None:
            return None
        if hit[0] != fingerprint:
            raise ApiError(400, "Idempotency-Key: reused with a different request")
        return hit[1]

    def create_checkout(self, body, key):
        c = {
            "reference": want_string(body, "reference"),
            "number": want_string(body, "number"),
            "tenant": want_string(body, "tenant"),
            "amount": want_amount(body),
            "currency": want_currency(body),
            "description": want_string(body, "description", optional=True),
            "return_url": want_url(body, "return_url"),
            "webhook_url": want_url(body, "webhook_url"),
        }
        fingerprint = json.dumps(c, sort_keys=True)
        with self.lock:
            existing = self._idempotent("checkouts", key, fingerprint)
            if existing is not None:
                return 200, self._checkout_view(self.checkouts[existing])
            c["id"] = new_id("cs")
            c["status"] = "open"
            self.checkouts[c["id"]] = c
            if key:
                self.idempotency[("checkouts", key)] = (fingerprint, c["id"])
            return 201, self._checkout_view(c)

    def _checkout_view(self, c):
        return {"id": c["id"], "url": self.public_url() + "/pay/" + c["id"], "status": c["status"]}

    def public_url(self):
        return self.args.public_url.rstrip("/")

    def pay(self, checkout_id, outcome, amount=None):
        """Creates a payment on an open checkout and queues its webhook."""
        if outcome not in ("succeed", "fail"):
            raise ApiError(400, "outcome: succeed or fail")
        with self.lock:
            c = self.checkouts.get(checkout_id)
            if c is None:
                raise ApiError(404, "no such checkout")
            if c["status"] != "open":
                raise ApiError(409, "checkout is %s" % c["status"])
            amount = c["amount"] if amount is None else amount
            ok = outcome == "succeed"
            p = {"id": new_id("pay"), "checkout": c["id"], "amount": amount,
                 "currency": c["currency"],
                 "fee": fee_of(amount, self.args.fee_bp, self.args.fee_fixed) if ok else 0,
                 "status": "succeeded" if ok else "failed"}
            self.payments[p["id"]] = p
            data = {"tenant": c["tenant"], "checkout": c["id"], "payment": p["id"],
                    "invoice": c["reference"], "amount": amount, "fee": p["fee"],
                    "currency": c["currency"]}
            if ok:
                c["status"] = "complete"
                self.settle_order.append(("payment", p["id"]))
                self._queue_event("payment.succeeded", data, c["webhook_url"])
            else:
                # A failed attempt leaves the checkout open: the buyer may try again.
                data["failure_reason"] = "card_declined"
                self._queue_event("payment.failed", data, c["webhook_url"])
            return p, c

    def refund(self, body, key):
        r = {
            "payment": want_string(body, "payment"),
            "amount": want_amount(body),
            "currency": want_currency(body),
            "reference": want_string(body, "reference"),
        }
        fingerprint = json.dumps(r, sort_keys=True)
        with self.lock:
            existing = self._idempotent("refunds", key, fingerprint)
            if existing is not None:
                found = self.refunds[existing]
                return 200, {"id": found["id"], "status": found["status"]}
            p = self.payments.get(r["payment"])
            if p is None:
                raise ApiError(400, "payment: unknown")
            if p["status"] != "succeeded":
                raise ApiError(400, "payment: %s, nothing to refund" % p["status"])
            if r["currency"] != p["currency"]:
                raise ApiError(400, "currency: the payment is in %s" % p["currency"])
            # Pending refunds hold their amount; failed ones give it back.
            taken = sum(x["amount"] for x in self.refunds.values()
                        if x["payment"] == p["id"] and x["status"] != "failed")
            remaining = p["amount"] - taken
            if r["amount"] > remaining:
                raise ApiError(400, "amount: exceeds the refundable %d" % remaining)
            r["id"] = new_id("re")
            r["status"] = "pending"
            self.refunds[r["id"]] = r
            if key:
                self.idempotency[("refunds", key)] = (fingerprint, r["id"])
            self._schedule(time.monotonic() + self.args.refund_delay, lambda: self._settle_refund(r["id"]))
            return 201, {"id": r["id"], "status": r["status"]}

    def _settle_refund(self, refund_id):
        with self.lock:
            r = self.refunds[refund_id]
            p = self.payments[r["payment"]]
            c = self.checkouts[p["checkout"]]
            ok = self.args.refund_outcome == "succeed"
            r["status"] = "succeeded" if ok else "failed"
            data = {"tenant": c["tenant"], "checkout": c["id"], "payment": p["id"],
                    "invoice": c["reference"], "amount": r["amount"], "fee": 0,
                    "currency": r["currency"], "refund": r["id"],
                    "refund_reference": r["reference"]}
            if ok:
                self.settle_order.append(("refund", r["id"]))
                self._queue_event("refund.succeeded", data, c["webhook_url"])
            else:
                data["failure_reason"] = "insufficient_balance"
                self._queue_event("refund.failed", data, c["webhook_url"])

    def payout(self, date):
        if not isinstance(date, str) or not DATE_RE.match(date):
            raise ApiError(400, "date: YYYY-MM-DD")
        with self.lock:
            if not self.settle_order:
                return None
            po = {"id": new_id("po"), "date": date}
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["payout_id", "payout_date", "currency", "type", "payment_reference",
                        "invoice_reference", "amount", "fee"])
            net = 0
            for kind, oid in self.settle_order:
                if kind == "payment":
                    p = self.payments[oid]
                    amount, fee = p["amount"], p["fee"]
                else:
                    r = self.refunds[oid]
                    p = self.payments[r["payment"]]
                    amount, fee = -r["amount"], 0
                net += amount - fee
                w.writerow([po["id"], date, p["currency"], kind, p["id"],
                            self.checkouts[p["checkout"]]["reference"], decimal(amount), decimal(fee)])
            self.settle_order = []
            po["net"] = net
            po["csv"] = out.getvalue()
            self.payouts[po["id"]] = po
            return po


class Delivery:
    """One copy of one event on its way to a webhook URL."""

    def __init__(self, provider, event, url, copy):
        self.provider, self.event, self.url, self.copy = provider, event, url, copy
        self.attempt = 0

    def __call__(self):
        self.provider._deliver(self)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # A webhook answered with a redirect is a failed delivery, not a new target.
    def redirect_request(self, *args, **kwargs):
        return None


# --- HTTP --------------------------------------------------------------------

PAY_PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Zahlung {id}</title></head>
<body><h1>Zahlung</h1>
<p>{description}</p>
<p>Rechnung {number}: <strong>{amount} {currency}</strong></p>
<form method="post" action="/pay/{id}">
<button name="outcome" value="succeed">Bezahlen</button>
<button name="outcome" value="fail">Abbrechen/Fehlschlag</button>
</form></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "payprovider-sim/1"
    provider = None  # set in main()

    def log_message(self, fmt, *args):
        if self.provider.args.verbose:
            sys.stderr.write("payprovider: %s\n" % (fmt % args))

    # -- plumbing -------------------------------------------------------------

    def _send(self, status, body=b"", content_type="application/json", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def _json(self, status, obj):
        self._send(status, json.dumps(obj).encode())

    def _raw_body(self):
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit():
            raise ApiError(411, "Content-Length required")
        if int(n) > MAX_BODY:
            raise ApiError(413, "body larger than %d bytes" % MAX_BODY)
        return self.rfile.read(int(n))

    def _json_body(self):
        try:
            body = json.loads(self._raw_body())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "body: not JSON")
        if not isinstance(body, dict):
            raise ApiError(400, "body: not a JSON object")
        return body

    def _authorise(self):
        got = self.headers.get("Authorization", "")
        want = "Bearer " + self.provider.args.api_key
        if not hmac.compare_digest(got.encode(), want.encode()):
            raise ApiError(401, "invalid API key")

    def _dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        try:
            for m, pattern, fn in ROUTES:
                if m != method:
                    continue
                match = re.fullmatch(pattern, path)
                if match:
                    if pattern.startswith("/v1/"):
                        self._authorise()
                    fn(self, *match.groups())
                    return
            raise ApiError(404, "no route for %s %s" % (method, path))
        except ApiError as e:
            self.close_connection = True  # an unread body must not become the next request
            self._json(e.status, {"error": e.message})
        except Exception as e:  # a bug here must still answer, not drop the connection
            self.close_connection = True
            sys.stderr.write("payprovider: internal error: %r\n" % (e,))
            self._json(500, {"error": "internal error"})

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    # -- routes ---------------------------------------------------------------

    def create_checkout(self):
        status, view = self.provider.create_checkout(self._json_body(), self.headers.get("Idempotency-Key"))
        self._json(status, view)

    def create_refund(self):
        status, view = self.provider.refund(self._json_body(), self.headers.get("Idempotency-Key"))
        self._json(status, view)

    def settlement(self, payout_id):
        with self.provider.lock:
            po = self.provider.payouts.get(payout_id)
        if po is None:
            raise ApiError(404, "no such payout")
        self._send(200, po["csv"].encode(), "text/csv; charset=utf-8")

    def pay_page(self, checkout_id):
        with self.provider.lock:
            c = dict(self.provider.checkouts.get(checkout_id) or {})
        if not c:
            raise ApiError(404, "no such checkout")
        page = PAY_PAGE.format(id=html.escape(c["id"]), description=html.escape(c["description"]),
                               number=html.escape(c["number"]),
                               amount=decimal(c["amount"]).replace(".", ","),
                               currency=html.escape(c["currency"]))
        self._send(200, page.encode(), "text/html; charset=utf-8")

    def pay_form(self, checkout_id):
        form = urllib.parse.parse_qs(self._raw_body().decode("utf-8", "replace"))
        outcome = form.get("outcome", [""])[0]
        p, c = self.provider.pay(checkout_id, outcome)
        sep = "&" if "?" in c["return_url"] else "?"
        location = c["return_url"] + sep + urllib.parse.urlencode(
            {"checkout": c["id"], "status": p["status"]})
        self._send(303, b"", "text/plain", {"Location": location})

    def control_pay(self, checkout_id):
        body = self._json_body()
        amount = want_amount(body) if "amount" in body else None
        p, _ = self.provider.pay(checkout_id, body.get("outcome"), amount)
        self._json(200, {"payment": p["id"], "status": p["status"]})

    def control_payout(self):
        po = self.provider.payout(self._json_body().get("date"))
        if po is None:
            self._send(204)
        else:
            self._json(200, {"id": po["id"], "net": po["net"], "csv": po["csv"]})

    def control_flush(self):
        self._json(200, self.provider.flush())

    def control_deliveries(self):
        with self.provider.lock:
            log = list(self.provider.deliveries)
        self._json(200, log)


ID = r"([a-z]+_[0-9a-f]{24})"
ROUTES = [
    ("POST", r"/v1/checkouts", Handler.create_checkout),
    ("POST", r"/v1/refunds", Handler.create_refund),
    ("GET", r"/v1/settlements/" + ID + r"\.csv", Handler.settlement),
    ("GET", r"/pay/" + ID, Handler.pay_page),
    ("POST", r"/pay/" + ID, Handler.pay_form),
    ("POST", r"/control/checkouts/" + ID + r"/pay", Handler.control_pay),
    ("POST", r"/control/payouts", Handler.control_payout),
    ("POST", r"/control/flush", Handler.control_flush),
    ("GET", r"/control/deliveries", Handler.control_deliveries),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description="Simulated payment provider (tests and demos only).")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--port-file", help="the port is written here once the server is ready")
    p.add_argument("--api-key", required=True, help="bearer key of the /v1 API")
    p.add_argument("--webhook-secret", required=True, action="append",
                   help="HMAC secret of webhook signatures; repeat to sign with several (rotation)")
    p.add_argument("--public-url", help="base of checkout URLs (default http://HOST:PORT)")
    p.add_argument("--duplicates", type=int, default=1, help="each event is delivered N times")
    p.add_argument("--reorder", action="store_true",
                   help="events queued within %.1f s are delivered in random order" % REORDER_WINDOW)
    p.add_argument("--seed", type=int, default=None, help="seed of --reorder's shuffling")
    p.add_argument("--fee-bp", type=int, default=140, help="fee in basis points of the amount")
    p.add_argument("--fee-fixed", type=int, default=25, help="fixed fee per payment, minor units")
    p.add_argument("--refund-outcome", choices=("succeed", "fail"), default="succeed")
    p.add_argument("--refund-delay", type=float, default=0.2, help="seconds until a refund settles")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    a = p.parse_args(argv)
    if a.duplicates < 1 or a.fee_bp < 0 or a.fee_fixed < 0 or a.refund_delay < 0:
        p.error("--duplicates must be ≥ 1; fees and --refund-delay must not be negative")
    return a


def main(argv):
    args = parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if not args.public_url:
        args.public_url = "http://%s:%d" % (args.host, port)
    provider = Provider(args)
    Handler.provider = provider

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    serving.start()

    print("listening on http://%s:%d" % (args.host, port), flush=True)
    if args.port_file:
        # Written whole and then renamed: a reader never sees half a number.
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)

    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
