"""Real Celery worker and beat processes on Redis (db 14) and a PostgreSQL database made for the test.

Redis is restarted while jobs are queued: jobs live in the database, so none is lost and none runs twice.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from engine import Settings, deploy, find_instances, open_engine, start_instance
from engine.migrate import upgrade
from engine.models import Job
from tests.background.conftest import DATA
from tests.conftest import PG_ADMIN, _pg_url
from tests.fakes import servers

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/14"
CELERY = [sys.executable, "-m", "celery", "-A", "engine.jobs.celery_app"]
pytestmark = pytest.mark.celery


@pytest.fixture
def pg_url():
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    name = f"hwf_celery_{tag}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", "-p", "6379", *args], capture_output=True, text=True, timeout=10)


def _restart_redis() -> None:
    _redis("shutdown", "nosave")
    time.sleep(1.0)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                    "--logfile", "/var/log/redis/ci.log"], check=True, timeout=10)
    for _ in range(50):
        if _redis("ping").stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("redis did not come back")


def _wait(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _start_many(ctx, prefix: str, n: int) -> None:
    for i in range(n):
        start_instance(ctx, "bg_connector", initiator="alice", institution="h1", business_key=f"{prefix}-{i}",
                       data={"order_id": f"{prefix}-{i}", "amount": i + 1})


def _ready(ctx, n: int) -> bool:
    views = find_instances(ctx, process_key="bg_connector", limit=1000)
    return len(views) == n and all([t.node_id for t in v.open_tasks] == ["check"] for v in views)


def test_celery_workers_and_beat_survive_a_redis_restart(pg_url, tmp_path):
    if _redis("ping").stdout.strip() != "PONG":
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    _redis("-n", "14", "flushdb")
    payment = servers.payment().start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HWF_DATABASE_URL": pg_url, "HWF_REDIS_URL": REDIS_URL,
           "HWF_CONNECTOR_URLS": json.dumps({"payment": payment.url}), "HWF_CELERY_BEAT_SECONDS": "0.5",
           "HWF_TICK_SECONDS": "5", "HWF_JOB_BACKOFF_SECONDS": "1"}
    ctx = open_engine(Settings(database_url=pg_url, redis_url=REDIS_URL))
    deploy(ctx, {"bg_connector.bpmn": (DATA / "bg_connector.bpmn").read_bytes()}, actor="admin")
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("worker1", "worker2", "beat")}
    procs = [
        subprocess.Popen([*CELERY, "worker", "--pool=threads", "--concurrency=4", "-n", f"w{n}@%h",
                          "--loglevel=INFO", "--without-gossip", "--without-mingle"],
                         cwd=ROOT, env=env, stdout=logs[f"worker{n}"], stderr=subprocess.STDOUT)
        for n in (1, 2)
    ]
    procs.append(subprocess.Popen([*CELERY, "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
                                  cwd=ROOT, env=env, stdout=logs["beat"], stderr=subprocess.STDOUT))
    try:
        _start_many(ctx, "A", 10)
        assert _wait(lambda: _ready(ctx, 10)), (tmp_path / "worker1.log").read_text()[-3000:]

        _redis("shutdown", "nosave")  # Redis goes away; commands keep writing jobs to the database
        try:
            _start_many(ctx, "B", 10)
            time.sleep(1.0)
        finally:
            _restart_redis()
        assert _wait(lambda: _ready(ctx, 20), timeout=90), (tmp_path / "beat.log").read_text()[-3000:]

        refunds = payment.calls("/refunds")
        keys = [r["headers"]["idempotency-key"] for r in refunds]
        assert len(payment.effects) == 20 and len(keys) == len(set(keys)) == 20  # each job ran once
        with ctx.db.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(Job).where(Job.status != "done")) == 0
            assert s.scalar(select(func.max(Job.attempts))) == 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
        payment.stop()
        ctx.db.engine.dispose()
