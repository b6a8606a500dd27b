"""CPU time the API process spends per request, by kind: the figure that bounds throughput per core.

Wall-clock latency on a shared 2-core machine swings with other jobs; the CPU time the server process
itself consumes per request (utime + stime from /proc, over N sequential requests on one keep-alive
connection) does not. 1000 / cpu_ms is the most requests per second one API process can serve, before the
database's own CPU. Server: uvicorn, 1 worker, inline worker off, on PostgreSQL (StatsRefresher) or SQLite.

Run: .venv/bin/python bench/request_cpu.py [--requests 300] [--db pg|sqlite]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import httpx
from _http import Server, five_step_for, fresh_pg, load, prepare

from engine.identity.demo import DEMO_PASSWORD

USER, KEY = "zhangwei", "five_step_http"


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, n: int, request) -> tuple[float, float]:
    """(server CPU ms, wall ms) per request over n calls of `request()`."""
    c0, t0 = process_cpu_seconds(pid), time.perf_counter()
    for _ in range(n):
        request()
    return (process_cpu_seconds(pid) - c0) * 1000 / n, (time.perf_counter() - t0) * 1000 / n


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--db", choices=["pg", "sqlite"], default="pg")
    a = p.parse_args()
    url = fresh_pg("hwf_perf_cpu") if a.db == "pg" else f"sqlite:///{tempfile.mkdtemp()}/cpu.db"
    prepare(url, {"five_step_http.bpmn": five_step_for(USER, KEY)})
    server = Server(url, 1, env={"HWF_INLINE_WORKER": "false"})
    try:
        c = httpx.Client(base_url=server.base, timeout=30)
        r = c.post("/api/auth/login", json={"identifier": USER, "password": DEMO_PASSWORD})
        r.raise_for_status()
        h = {"X-CSRF-Token": r.json()["csrf_token"]}
        open_tasks: list[str] = []
        seq = iter(range(10**9))

        def start() -> None:
            out = c.post(f"/api/processes/{KEY}/instances", headers=h,
                         json={"institution": "rmyy_main", "business_key": f"cpu{next(seq)}"})
            out.raise_for_status()
            open_tasks.extend(t["id"] for t in out.json()["open_tasks"])

        def complete() -> None:
            out = c.post(f"/api/tasks/{open_tasks.pop()}/complete", headers=h,
                         json={"outcome": "approve", "data": {"comment": "同意", "amount": 1}})
            out.raise_for_status()
            open_tasks.extend(t["id"] for t in out.json()["created"])

        def inbox() -> None:
            c.get("/api/tasks?limit=20", headers=h).raise_for_status()

        def health() -> None:
            c.get("/healthz").raise_for_status()

        for _ in range(50):  # warm-up: imports, caches, pools, and an inbox to read
            start()
        rows = [(name, *measure(server.proc.pid, a.requests, fn))
                for name, fn in (("healthz", health), ("API start", start), ("form submit", complete),
                                 ("inbox read", inbox))]
    finally:
        server.stop()
    print(f"API process CPU per request, {a.requests} sequential requests each, {a.db}  ({load()})")
    print(f"{'request':<14}{'cpu ms':>8}{'wall ms':>9}{'max req/s per core':>20}")
    for name, cpu, wall in rows:
        print(f"{name:<14}{cpu:>8.2f}{wall:>9.2f}{1000 / cpu if cpu else float('inf'):>20.0f}")


if __name__ == "__main__":
    main()
