#!/usr/bin/env python3
"""Times the operations page through the BFF: server-rendered HTML of 20 rows, signed in, on loopback.

Usage: bench_bff.py [base_url] [requests]. Expects a console with demo data (scripts/run.sh or bench.sh).
Prints p50/p90/p99 and the mean, in milliseconds.
"""
import http.client
import statistics
import sys
import time
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
TENANT = "00000000-0000-4000-8000-00000000d001"

url = urllib.parse.urlparse(BASE)
conn = http.client.HTTPConnection(url.hostname, url.port)
form = urllib.parse.urlencode(
    {"email": "admin@demo.local", "password": "demo-admin-pass", "tenant": TENANT}
)
conn.request(
    "POST",
    "/api/login",
    body=form,
    headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": BASE, "Accept": "application/json"},
)
res = conn.getresponse()
res.read()
cookies = [h.split(";")[0] for k, h in res.getheaders() if k.lower() == "set-cookie"]
if res.status >= 400 or len(cookies) != 2:
    sys.exit(f"login failed: HTTP {res.status}")
cookie = "; ".join(cookies)


def timed(path):
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Accept-Encoding": "identity"})
    r = conn.getresponse()
    body = r.read()
    elapsed = (time.perf_counter() - start) * 1000
    if r.status != 200 or body.count(b"data-status=") != 20:
        sys.exit(f"unexpected answer for {path}: HTTP {r.status}, {body.count(b'data-status=')} rows")
    return elapsed


for path in ["/connectors/operations", "/connectors/operations?status=completed"]:
    for _ in range(20):
        timed(path)  # warm-up
    samples = sorted(timed(path) for _ in range(N))
    q = statistics.quantiles(samples, n=100)
    print(
        f"GET {path} (SSR, 20 rows, signed in): n={N} p50={q[49]:.1f} ms p90={q[89]:.1f} ms "
        f"p99={q[98]:.1f} ms mean={statistics.fmean(samples):.1f} ms"
    )
