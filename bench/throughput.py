"""Benchmark: five-step approval instances completed per second through the HTTP API.

Production app (`api.app:build_app`: create_app + PlatformAuthenticator) under uvicorn on 127.0.0.1 with
1 and 2 worker processes, on PostgreSQL and on SQLite embedded. C concurrent client loops (asyncio + httpx,
one logged-in demo session: cookie + CSRF header) each repeat: POST /api/processes/five_step_http/instances,
then POST /api/tasks/{id}/complete five times. The five-step process needs no background work (no timers,
no connectors), so no Celery worker is involved; the inline worker is off (HWF_INLINE_WORKER=false).
Prints instances/s, task completions/s and per-request p50/p99 latency (client side, includes the
client's own CPU: the driver shares the 2 cores with the server).

Run: .venv/bin/python bench/throughput.py [--seconds 20] [--concurrency 8] [--workers 1 2] [--skip-sqlite]
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

import httpx
from _http import Server, five_step_for, fresh_pg, load, login, pct, prepare

USER = "zhangwei"
KEY = "five_step_http"


async def drive(base: str, seconds: float, concurrency: int) -> dict:
    lat: dict[str, list[float]] = {"start": [], "complete": []}
    errors: list[str] = []
    done = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        headers = await login(client, USER)
        end = time.perf_counter() + seconds
        n = 0

        async def post(kind: str, path: str, body: dict) -> dict | None:
            t0 = time.perf_counter()
            r = await client.post(path, json=body, headers=headers)
            lat[kind].append(time.perf_counter() - t0)
            if r.status_code >= 300:
                errors.append(f"{r.status_code} {r.text[:120]}")
                return None
            return r.json()

        async def loop(slot: int) -> None:
            nonlocal done, n
            while time.perf_counter() < end:
                n += 1
                inst = await post("start", f"/api/processes/{KEY}/instances",
                                  {"institution": "rmyy_main", "business_key": f"t{slot}-{n}"})
                if inst is None:
                    continue
                task = inst["open_tasks"][0]
                while task:
                    out = await post("complete", f"/api/tasks/{task['id']}/complete", {"outcome": "approve"})
                    if out is None:
                        break
                    task = out["created"][0] if out["created"] else None
                    if task is None and out["instance"]["status"] == "completed":
                        done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "done": done, "lat": lat, "errors": errors}


def run(label: str, url: str, workers: int, seconds: float, concurrency: int) -> None:
    server = Server(url, workers, env={"HWF_INLINE_WORKER": "false"})
    try:
        asyncio.run(drive(server.base, 3, concurrency))  # warm-up (imports, caches, connection pools)
        r = asyncio.run(drive(server.base, seconds, concurrency))
    finally:
        server.stop()
    all_lat = r["lat"]["start"] + r["lat"]["complete"]
    print(f"{label:<12}{workers:>8}{concurrency:>6}{r['done'] / r['elapsed']:>9.1f}"
          f"{len(r['lat']['complete']) / r['elapsed']:>10.1f}{pct(all_lat, .5):>8.1f}{pct(all_lat, .99):>8.1f}"
          f"{pct(r['lat']['start'], .99):>10.1f}{pct(r['lat']['complete'], .99):>10.1f}{len(r['errors']):>7}"
          f"   {load()}", flush=True)
    for e in r["errors"][:3]:
        print("   error:", e)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-pg", action="store_true")
    a = p.parse_args()
    files = {"five_step_http.bpmn": five_step_for(USER, KEY)}
    dbs = []
    if not a.skip_pg:
        dbs.append(("PostgreSQL", lambda: fresh_pg("hwf_perf_tp")))
    if not a.skip_sqlite:
        dbs.append(("SQLite", lambda: f"sqlite:///{tempfile.mkdtemp()}/tp.db"))
    print(f"five-step instances through HTTP, {a.seconds:.0f} s per run, goal >= 100 inst/s, p99 < 250 ms")
    print(f"{'db':<12}{'workers':>8}{'conc':>6}{'inst/s':>9}{'tasks/s':>10}{'p50':>8}{'p99':>8}"
          f"{'start p99':>10}{'compl p99':>10}{'errors':>7}")
    for label, make in dbs:
        for w in a.workers:
            url = make()
            prepare(url, files)
            run(label, url, w, a.seconds, a.concurrency)


if __name__ == "__main__":
    main()
