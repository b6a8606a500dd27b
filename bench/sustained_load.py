"""Sustained load: N virtual users for T minutes mixing inbox reads, form submits and API starts.

Driver: asyncio + httpx (locust was not installed in the time box; same model: each virtual user loops
think-time -> weighted action). Server: the production app under uvicorn (--workers W) on 127.0.0.1, on
PostgreSQL (hwf_perf_load) with the inline worker off. Every 10 virtual users share one logged-in demo
session (zhangwei; cookie + CSRF header). Actions (weights 5/3/2):
  * inbox read   GET /api/tasks?limit=20   (the caller's open tasks)
  * form submit  POST /api/tasks/{id}/complete {"outcome": "approve", "data": {...}} on a task the
                 virtual user owns (falls back to a start when it has none)
  * API start    POST /api/processes/five_step_http/instances
Think time uniform 0.5-1.5 s. Any status >= 400 or transport error counts as an error.
Goal: 0 errors, p99 < 500 ms.

Run: .venv/bin/python bench/sustained_load.py [--users 50] [--minutes 10] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import defaultdict

import httpx
from _http import Server, five_step_for, fresh_pg, load, login, pct, prepare, summary

USER, KEY = "zhangwei", "five_step_http"


async def run(base: str, users: int, seconds: float) -> tuple[dict, list[str], float]:
    lat: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    clients = [httpx.AsyncClient(base_url=base, timeout=30, limits=limits) for _ in range((users + 9) // 10)]
    headers = [await login(c, USER) for c in clients]
    end = time.monotonic() + seconds

    async def call(kind: str, c: httpx.AsyncClient, h: dict, method: str, path: str, body=None):
        t0 = time.perf_counter()
        try:
            r = await c.request(method, path, json=body, headers=h)
        except httpx.HTTPError as exc:
            errors.append(f"{kind}: {exc!r}")
            return None
        lat[kind].append(time.perf_counter() - t0)
        if r.status_code >= 400:
            errors.append(f"{kind}: {r.status_code} {r.text[:150]}")
            return None
        return r.json()

    async def vu(n: int) -> None:
        rng = random.Random(n)
        c, h = clients[n // 10], headers[n // 10]
        mine: list[str] = []
        k = 0
        await asyncio.sleep(rng.random())
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            action = rng.choices(["inbox", "submit", "start"], [5, 3, 2])[0]
            if action == "submit" and not mine:
                action = "start"
            if action == "inbox":
                await call("inbox read", c, h, "GET", "/api/tasks?limit=20")
            elif action == "start":
                k += 1
                out = await call("API start", c, h, "POST", f"/api/processes/{KEY}/instances",
                                 {"institution": "rmyy_main", "business_key": f"vu{n}-{k}"})
                if out:
                    mine.extend(t["id"] for t in out["open_tasks"])
            else:
                tid = mine.pop()
                out = await call("form submit", c, h, "POST", f"/api/tasks/{tid}/complete",
                                 {"outcome": "approve", "data": {"comment": f"同意 {n}-{k}", "amount": k}})
                if out:
                    mine.extend(t["id"] for t in out["created"])

    t0 = time.monotonic()
    await asyncio.gather(*(vu(n) for n in range(users)))
    elapsed = time.monotonic() - t0
    for c in clients:
        await c.aclose()
    return lat, errors, elapsed


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    url = fresh_pg("hwf_perf_load")
    prepare(url, {"five_step_http.bpmn": five_step_for(USER, KEY)})
    server = Server(url, a.workers, env={"HWF_INLINE_WORKER": "false"})
    try:
        lat, errors, elapsed = asyncio.run(run(server.base, a.users, a.minutes * 60))
        la = load()
    finally:
        server.stop()
    everything = [x for v in lat.values() for x in v]
    print(f"{a.users} virtual users x {a.minutes:g} min, uvicorn --workers {a.workers}, PostgreSQL  ({la})")
    for kind, samples in sorted(lat.items()):
        print(f"  {kind:12s} {summary(samples)}")
    print(f"  {'all':12s} {summary(everything)}  -> {len(everything) / elapsed:.1f} req/s")
    print(f"errors: {len(errors)}  p99 {pct(everything, .99):.0f} ms  (goal: 0 errors, p99 < 500 ms)")
    for e in errors[:5]:
        print("  ", e)


if __name__ == "__main__":
    main()
