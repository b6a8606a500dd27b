"""Connector outage: the fake payment server is down while refund connector jobs are queued.

Celery worker (threads x4) + beat on Redis DB 12, PostgreSQL database hwf_perf_outage, the refund process
tests/background/data/bg_connector.bpmn (service task `payment.refund`, then a user task `check`).
Timeline: payment server up -> stopped (connection refused on its port) -> N refund instances started
during the outage -> jobs retry with backoff, exhaust connector_max_attempts and open incidents ->
after --outage seconds the server comes back on the same port (same idempotency ledger) ->
open incidents are bulk-retried (engine.retry_incidents, what an operator does) -> wait until every
instance reached `check`. Verifies 0 lost refunds and every refund executed exactly once on the fake
server's idempotency ledger (one effect per Idempotency-Key, N effects for N instances).

Backoff is scaled to the window: HWF_JOB_BACKOFF_SECONDS=2, HWF_JOB_BACKOFF_MAX_SECONDS=--backoff-max.
Run: .venv/bin/python bench/connector_outage.py [--outage 600] [--refunds 50]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from http.server import ThreadingHTTPServer

from _http import ROOT, fresh_pg, load, stop_processes

sys.path.insert(0, str(ROOT))
from sqlalchemy import func, select  # noqa: E402

import engine  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import Incident, Job  # noqa: E402
from tests.fakes import servers  # noqa: E402

REDIS = "redis://127.0.0.1:6379/12"


def celery(*args: str, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "engine.jobs.celery_app", *args,
                             "--loglevel", "INFO"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT)


def restart_on_same_port(system: servers.FakeSystem, port: int) -> None:
    import threading
    system.server = ThreadingHTTPServer(("127.0.0.1", port), system._handler())
    system.server.daemon_threads = True
    system.thread = threading.Thread(target=system.server.serve_forever, kwargs={"poll_interval": 0.05},
                                     daemon=True)
    system.thread.start()


def counts(ctx) -> dict:
    with ctx.db.unit_of_work() as s:
        jobs = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        incidents = dict(s.execute(select(Incident.status, func.count()).group_by(Incident.status)).all())
        attempts = s.scalar(select(func.max(Job.attempts)))
    return {"jobs": jobs, "incidents": incidents, "max_attempts": attempts}


def at_check(ctx, n: int) -> int:
    views = engine.find_instances(ctx, process_key="bg_connector", limit=n + 10)
    return sum(1 for v in views if [t.node_id for t in v.open_tasks] == ["check"])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--outage", type=float, default=600.0, help="seconds the payment server is down")
    p.add_argument("--refunds", type=int, default=50)
    p.add_argument("--backoff-max", type=float, default=15.0)
    a = p.parse_args()
    url = fresh_pg("hwf_perf_outage")
    upgrade(url)
    import redis
    redis.Redis.from_url(REDIS).flushdb()
    payment = servers.payment().start()
    port = payment.server.server_address[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HWF_DATABASE_URL": url, "HWF_REDIS_URL": REDIS,
           "HWF_CONNECTOR_URLS": json.dumps({"payment": payment.url}), "HWF_CELERY_BEAT_SECONDS": "1",
           "HWF_JOB_BACKOFF_SECONDS": "2", "HWF_JOB_BACKOFF_MAX_SECONDS": str(a.backoff_max),
           "HWF_CONNECTOR_TIMEOUT_SECONDS": "2"}
    ctx = engine.open_engine(engine.Settings(database_url=url, redis_url=REDIS, inline_worker=False))
    engine.deploy(ctx, {"bg_connector.bpmn": (ROOT / "tests/background/data/bg_connector.bpmn").read_bytes()},
                  actor="bench")
    tmp = tempfile.mkdtemp(prefix="hwf-outage-")
    log = open(f"{tmp}/celery.log", "w")
    procs = [celery("worker", "--pool=threads", "--concurrency=4", "-n", f"outage{os.getpid()}@%h",
                    "--without-gossip", "--without-mingle", env=env, log=log),
             celery("beat", "-s", f"{tmp}/beat", env=env, log=log)]
    try:
        time.sleep(5)
        payment.stop()
        down_at = time.monotonic()
        print(f"payment server DOWN for {a.outage:.0f} s; starting {a.refunds} refund instances", flush=True)
        for i in range(a.refunds):
            engine.start_instance(ctx, "bg_connector", initiator="alice", institution="h1",
                                  business_key=f"R-{i}", data={"order_id": f"R-{i}", "amount": i + 1})
        while time.monotonic() - down_at < a.outage:
            time.sleep(min(10.0, a.outage - (time.monotonic() - down_at)))
            print(f"  t+{time.monotonic() - down_at:4.0f}s {counts(ctx)}", flush=True)
        during = counts(ctx)
        restart_on_same_port(payment, port)
        up_at = time.monotonic()
        retried = engine.retry_incidents(ctx, actor="ops", reason="payment platform back", connector=None)
        print(f"payment server UP again; retried {retried} open incidents", flush=True)
        recovered = None
        while time.monotonic() - up_at < 180:
            if at_check(ctx, a.refunds) == a.refunds:
                recovered = time.monotonic() - up_at
                break
            time.sleep(0.5)
        after = counts(ctx)
        la = load()
    finally:
        stop_processes(procs)
        log.close()
        payment.stop()
    refunds = payment.calls("/refunds")
    keys = Counter(r["headers"].get("idempotency-key") for r in refunds)
    ids = Counter(e.get("refund_request_id") for e in payment.effects.values())
    reached = at_check(ctx, a.refunds)
    print(f"\noutage {a.outage:.0f} s, {a.refunds} refunds, Celery threads x4 + beat, PostgreSQL  ({la})")
    print(f"during outage : {during}")
    print(f"after recovery: {after}")
    took = "never (timeout 180 s)" if recovered is None else f"{recovered:.1f} s"
    print(f"recovered (all {a.refunds} instances past the refund) {took} after the server returned")
    print(f"instances at 'check': {reached}/{a.refunds}  lost refunds: {a.refunds - len(payment.effects)}")
    print(f"ledger: {len(payment.effects)} effects, {len(refunds)} POST /refunds received after recovery, "
          f"max posts per key {max(keys.values()) if keys else 0}, duplicate refund_request_ids "
          f"{sum(1 for v in ids.values() if v > 1)}")
    print("RESULT:", "PASS" if reached == a.refunds == len(payment.effects) and all(v == 1 for v in ids.values())
          else "FAIL", f"(celery log {tmp}/celery.log)")


if __name__ == "__main__":
    main()
