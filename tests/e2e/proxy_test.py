#!/usr/bin/python3
"""saalbuchd behind Debian's nginx with TLS, as tools/deploy/nginx-saalbuch.conf
sets it up (issue 17, part 2).

Runs that very file, with a test certificate made by openssl and ports of its
own, in front of a real saalbuchd (--trusted-proxies 127.0.0.1) and a real SMTP
server (aiosmtpd). Clients connect from different loopback addresses
(127.0.0.2, 127.0.0.3, …), so nginx sees different citizens. Checks:

- the widget's script and its API calls work over https, CORS included;
- the per-client limits apply per real client: one citizen is throttled,
  another is not, and a forged X-Forwarded-For does not escape the limit;
- the access log names the real client, and no token or query;
- the confirmation e-mail's links use https;
- without --public-url, the URLs built in a reply follow the proxy's
  X-Forwarded-Proto and -Host, and only a trusted peer can set them.

Usage: proxy_test.py SAALBUCHD REPO_ROOT
"""
import datetime
import email
import email.policy
import http.client
import json
import mailbox
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

SAALBUCHD, ROOT = sys.argv[1], sys.argv[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, proc=None, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


def request(port, method, path, body=None, headers=None, source="127.0.0.1", tls=None):
    """One request on a fresh connection from `source`; (status, headers, text)."""
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=tls,
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    conn.request(method, path, body=data, headers=all_headers)
    res = conn.getresponse()
    text = res.read().decode("utf-8", "replace")
    conn.close()
    return res.status, {k.lower(): v for k, v in res.getheaders()}, text


def start_saalbuchd(work, name, extra):
    data = os.path.join(work, name)
    log = open(os.path.join(work, name + ".log"), "wb")
    port = free_port()
    proc = subprocess.Popen([SAALBUCHD, "--data", data, "--listen", f"127.0.0.1:{port}", "--demo"] + extra,
                            stdout=subprocess.DEVNULL, stderr=log)
    wait_port(port, "saalbuchd", proc)
    return proc, port, os.path.join(work, name + ".log")


def nginx_config(work, upstream_port, plain_port, tls_port):
    """tools/deploy/nginx-saalbuch.conf with the test's ports and certificate,
    inside a main configuration of the test's own; every replacement must
    hit, so the example cannot drift from what is tested."""
    with open(os.path.join(ROOT, "tools/deploy/nginx-saalbuch.conf")) as f:
        site = f.read()
    replacements = [
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};"),
        ("    listen 80;\n", f"    listen 127.0.0.1:{plain_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{tls_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("/etc/ssl/certs/buchen.example.de.pem", os.path.join(work, "cert.pem")),
        ("/etc/ssl/private/buchen.example.de.key", os.path.join(work, "key.pem")),
    ]
    for old, new in replacements:
        if old not in site:
            sys.exit(f"tools/deploy/nginx-saalbuch.conf no longer has {old!r}")
        site = site.replace(old, new)
    temp = os.path.join(work, "nginx-temp")
    os.makedirs(temp, exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {work}/nginx-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(main)
    return path


def next_monday_local(hour):
    today = datetime.date.today()
    monday = today + datetime.timedelta(days=7 - today.weekday() + 7)
    return f"{monday.isoformat()}T{hour:02d}:00:00+01:00"


def main():
    work = tempfile.mkdtemp(prefix="saalbuch-proxy-")
    procs = []
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(work, "key.pem"), "-out", os.path.join(work, "cert.pem")],
                       check=True, capture_output=True)
        tls = ssl.create_default_context(cafile=os.path.join(work, "cert.pem"))

        smtp_port = free_port()
        maildir = os.path.join(work, "maildir")
        smtp = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}",
                                 "-c", "aiosmtpd.handlers.Mailbox", maildir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(smtp)
        wait_port(smtp_port, "aiosmtpd", smtp)

        plain_port, tls_port = free_port(), free_port()
        public = f"https://127.0.0.1:{tls_port}"
        sb, sb_port, sb_log = start_saalbuchd(work, "proxied", [
            "--trusted-proxies", "127.0.0.1", "--public-url", public,
            "--smtp-url", f"smtp://127.0.0.1:{smtp_port}", "--rate-limit", "5"])
        procs.append(sb)
        conf = nginx_config(work, sb_port, plain_port, tls_port)
        nginx = subprocess.Popen([NGINX, "-c", conf, "-g", "daemon off;"], stderr=subprocess.PIPE)
        procs.append(nginx)
        wait_port(tls_port, "nginx", nginx)

        # Plain http is sent to https.
        status, headers, _ = request(plain_port, "GET", "/demo/")
        check(status == 301 and headers.get("location", "").startswith("https://"),
              f"http answers 301 to https ({status} {headers.get('location')})")

        # The widget through the proxy: its script, availability and a
        # booking with a contact, as a town's page at another origin makes them.
        origin = {"Origin": "https://www.stadt.example"}
        status, headers, text = request(tls_port, "GET", "/widget/v1/saalbuch.js", tls=tls, source="127.0.0.2")
        check(status == 200 and "javascript" in headers.get("content-type", "") and len(text) > 1000,
              f"the widget's script over https ({status})")
        status, headers, text = request(tls_port, "GET", "/v1/tenants/buergerhaus/resources", headers=origin,
                                        tls=tls, source="127.0.0.2")
        check(status == 200 and headers.get("access-control-allow-origin") in ("*", origin["Origin"]),
              f"resources with CORS over https ({status}, {headers.get('access-control-allow-origin')})")
        status, headers, text = request(tls_port, "POST", "/v1/tenants/buergerhaus/bookings", tls=tls,
                                        source="127.0.0.2",
                                        headers=dict(origin, **{"Idempotency-Key": str(uuid.uuid4())}),
                                        body={"resource": "seminarraum", "start": next_monday_local(10),
                                              "end": next_monday_local(11),
                                              "contact": {"name": "Erika Muster",
                                                          "email": "erika@example.org"}})
        check(status == 201, f"a keyless booking through the proxy ({status} {text[:200]})")
        booking = json.loads(text) if status == 201 else {}

        # The confirmation e-mail's links use https.
        deadline, mails = time.time() + 20, []
        while time.time() < deadline and not mails:
            if os.path.isdir(maildir):
                mails = [m for m in mailbox.Maildir(maildir, factory=None, create=False)]
            time.sleep(0.1)
        check(len(mails) >= 1, "the confirmation e-mail arrived")
        if mails:
            msg = email.message_from_bytes(mails[0].as_bytes(), policy=email.policy.default)
            body = "".join(part.get_content() for part in msg.walk() if part.get_content_type() == "text/plain")
            links = re.findall(r"\bhttps?://[^\s>]+", body)
            check(links and all(link.startswith(public + "/") for link in links),
                  f"every link in the e-mail starts with {public}/ ({links})")

        # Limits per real client: 127.0.0.3 spends its burst (5/s, burst 10);
        # 127.0.0.4 is still served; a forged X-Forwarded-For does not help.
        codes = [request(tls_port, "GET", "/v1/tenants/buergerhaus/resources", tls=tls, source="127.0.0.3")[0]
                 for _ in range(16)]
        check(429 in codes, f"one citizen is throttled ({codes})")
        request(tls_port, "GET", "/v1/tenants/buergerhaus/resources", tls=tls, source="127.0.0.3",
                headers={"X-Forwarded-For": "198.51.100.77", "X-Request-Id": "forged-xff-1"})
        # nginx passes a client's own Forwarded header on untouched.
        request(tls_port, "GET", "/v1/tenants/buergerhaus/resources", tls=tls, source="127.0.0.3",
                headers={"Forwarded": "for=198.51.100.78;proto=https", "X-Request-Id": "forged-fwd-1"})
        status = request(tls_port, "GET", "/v1/tenants/buergerhaus/resources", tls=tls, source="127.0.0.4")[0]
        check(status == 200, f"another citizen is served meanwhile ({status})")

        # Without a trusted proxy (a peer saalbuchd does not trust), the
        # headers are ignored: the peer is throttled under its own address.
        codes = [request(sb_port, "GET", "/v1/tenants/buergerhaus/resources", source="127.0.0.5",
                         headers={"X-Forwarded-For": f"198.51.100.{i}"})[0] for i in range(16)]
        check(429 in codes, f"an untrusted peer's X-Forwarded-For is ignored ({codes})")

        # The access log: the real clients, and no manage token or query.
        time.sleep(1.5)  # the access log is written at most a second late
        with open(sb_log, encoding="utf-8", errors="replace") as f:
            log = f.read()
        lines = [l for l in log.splitlines() if 'msg="request"' in l]
        check(any("client=127.0.0.2" in l and "route=bookings" in l and "status=201" in l for l in lines),
              "the access log names the booking citizen's address")
        check(any("client=127.0.0.3" in l and "status=429" in l for l in lines),
              "the access log names the throttled citizen's address")
        check(any("id=forged-xff-1 " in l and "client=127.0.0.3 " in l for l in lines),
              "a forged X-Forwarded-For through the proxy is counted under the real address")
        check(any("id=forged-fwd-1 " in l and "client=127.0.0.3 " in l for l in lines),
              "a client's own Forwarded header through the proxy is ignored")
        check(not any("client=198.51.100." in l for l in lines), "no forged address in the access log")
        check(booking.get("manage_token", "x") not in log and "erika" not in log.lower(),
              "neither the manage token nor the contact is in the log")

        # Without --public-url: the URLs built in a reply follow the
        # trusted proxy's X-Forwarded-Proto and -Host, only the trusted one's.
        sb2, sb2_port, _ = start_saalbuchd(work, "derived", ["--trusted-proxies", "127.0.0.1"])
        procs.append(sb2)
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "buchen.stadt.example",
                     "X-Forwarded-For": "198.51.100.8"}
        _, _, page = request(sb2_port, "GET", "/demo/", headers=forwarded, source="127.0.0.1")
        check("https://buchen.stadt.example/widget/v1/saalbuch.js" in page,
              "the demo page's snippet names the origin the proxy reports")
        _, _, page = request(sb2_port, "GET", "/demo/", headers=forwarded, source="127.0.0.6")
        check(f"http://127.0.0.1:{sb2_port}/widget/v1/saalbuch.js" in page and "buchen.stadt" not in page,
              "an untrusted peer cannot choose the origin")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if failures:
            for name in ("nginx-error.log",):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    print(open(path).read()[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


main()
