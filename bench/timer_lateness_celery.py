"""Timer lateness with Celery worker + beat on Redis, on PostgreSQL, under load.

Starts `celery -A engine.jobs.celery_app worker --pool=threads --concurrency=8` and `... beat` (Redis DB 12,
fresh PostgreSQL database hwf_perf_timer), then creates N instances waiting on timers due 2..2+spread s
later while a load thread keeps completing five-step instances through the engine (same database) for
the whole window. Lateness = job finished_at - run_at (due). Goal p95 < 2 s.

Run: .venv/bin/python bench/timer_lateness_celery.py [--instances 300] [--spread 20] [--no-load]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from _http import ROOT, fresh_pg, load, stop_processes
from sqlalchemy import select  # noqa: E402
from timer_lateness import BPMN  # noqa: E402

import engine  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import Job  # noqa: E402

REDIS = "redis://127.0.0.1:6379/12"


def celery(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "engine.jobs.celery_app", *args,
                             "--loglevel", "WARNING"], cwd=ROOT, env=env, start_new_session=True)


def main() -> None:  # noqa: C901 - one linear benchmark scenario
    p = argparse.ArgumentParser()
    p.add_argument("--instances", type=int, default=300)
    p.add_argument("--spread", type=int, default=20)
    p.add_argument("--no-load", action="store_true")
    a = p.parse_args()
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("SpiffWorkflow").setLevel(logging.WARNING)
    url = fresh_pg("hwf_perf_timer")
    upgrade(url)
    import redis
    redis.Redis.from_url(REDIS).flushdb()
    settings = engine.Settings(database_url=url, redis_url=REDIS, inline_worker=False)
    ctx = engine.open_engine(settings)
    five = (ROOT / "bench" / "five_step.bpmn").read_bytes()
    engine.deploy(ctx, {"bench.bpmn": BPMN.encode()}, actor="bench")
    engine.deploy(ctx, {"five_step.bpmn": five}, actor="bench")
    env = {**os.environ, "HWF_DATABASE_URL": url, "HWF_REDIS_URL": REDIS, "PYTHONPATH": str(ROOT)}
    sched = tempfile.mkdtemp()
    procs = [celery("worker", "--pool=threads", "--concurrency=8", "-n", f"perf{os.getpid()}@%h", env=env),
             celery("beat", "--schedule", f"{sched}/beat", env=env)]
    stop = threading.Event()
    steps = [0]

    def background_load() -> None:
        user = engine.Subject("u")
        n = 0
        while not stop.is_set():
            n += 1
            view = engine.start_instance(ctx, "five_step", initiator="u", institution="h1", business_key=f"L{n}")
            task = view.open_tasks[0]
            while task and not stop.is_set():
                r = engine.complete_task(ctx, task.id, user, outcome="approve")
                steps[0] += 1
                task = r.created[0] if r.created else None

    try:
        time.sleep(5)  # worker and beat connect
        loaders = [] if a.no_load else [threading.Thread(target=background_load, daemon=True) for _ in range(2)]
        for t in loaders:
            t.start()
        began = time.monotonic()
        for i in range(a.instances):
            engine.start_instance(ctx, "bench_timer", initiator="bench", institution="h1",
                                  data={"delay": 2 + i % a.spread})
        created = time.monotonic() - began
        deadline = time.monotonic() + a.spread + 90
        rows = []
        while time.monotonic() < deadline:
            with ctx.db.unit_of_work() as s:
                rows = s.execute(select(Job.run_at, Job.finished_at)
                                 .where(Job.kind == "timer", Job.status == "done")).all()
            if len(rows) >= a.instances:
                break
            time.sleep(0.5)
        load_seconds = time.monotonic() - began
        stop.set()
        la = load()
    finally:
        stop_processes(procs)
    late = sorted((f - r).total_seconds() for r, f in rows)
    if not late:
        print("no timer fired")
        return
    p95 = late[int(0.95 * (len(late) - 1))]
    print(f"Celery (threads x8) + beat ({settings.celery_beat_seconds}s), Redis DB 12, PostgreSQL: "
          f"{len(late)}/{a.instances} timers fired, start rate {a.instances / created:.0f}/s")
    print(f"background load: {'none' if a.no_load else f'{steps[0] / load_seconds:.1f} task completions/s'} "
          f"(2 threads)  {la}")
    print(f"lateness p50 {statistics.median(late):.3f}s  p95 {p95:.3f}s  max {late[-1]:.3f}s  (goal p95 < 2 s)")


if __name__ == "__main__":
    main()
