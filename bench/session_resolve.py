"""Cost of authenticating one HTTP request with a session cookie: engine.resolve_session (a database
transaction: session row, user, roles). Needs a database prepared by bench/throughput.py (demo identity).

Run: .venv/bin/python bench/session_resolve.py [url]   (default: the hwf_perf_tp database)
"""
from __future__ import annotations

import os
import statistics
import sys
import time

from _http import ROOT  # noqa: F401  (puts the project on sys.path)

import engine  # noqa: E402
from engine.identity.demo import DEMO_PASSWORD  # noqa: E402

url = sys.argv[1] if len(sys.argv) > 1 else "postgresql+psycopg://postgres@127.0.0.1:5432/hwf_perf_tp"
ctx = engine.open_engine(engine.Settings(database_url=url, inline_worker=False))
token = engine.login(ctx, "zhangwei", DEMO_PASSWORD, ip="127.0.0.1").session_token
for _ in range(20):
    engine.resolve_session(ctx, token)
s = []
for _ in range(300):
    t = time.perf_counter()
    engine.resolve_session(ctx, token)
    s.append((time.perf_counter() - t) * 1000)
s.sort()
print(f"resolve_session mean {statistics.fmean(s):.2f} p50 {s[150]:.2f} p95 {s[285]:.2f} ms  "
      f"(load average {os.getloadavg()[0]:.2f})")
