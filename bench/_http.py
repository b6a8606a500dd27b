"""Shared helpers for the HTTP benchmarks: fresh databases, a prepared platform, uvicorn processes on loopback.

The app is the production one (`api.app:build_app` -> create_app + PlatformAuthenticator); clients log in
as demo users (engine.load_demo_identity, DEMO_PASSWORD) and send the session cookie + CSRF header.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from api.serve import KEEP_ALIVE_SECONDS  # noqa: E402
from engine.identity.demo import DEMO_PASSWORD  # noqa: E402
from engine.migrate import upgrade  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FIVE_STEP = ROOT / "bench" / "five_step.bpmn"


def fresh_pg(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def five_step_for(user: str, key: str = "five_step_http") -> bytes:
    """The bench five-step process, its steps offered to `user` (a demo user) instead of 'u'."""
    text = FIVE_STEP.read_text(encoding="utf-8").replace('candidateUsers="u"', f'candidateUsers="{user}"')
    return re.sub(r'<bpmn:process id="five_step"', f'<bpmn:process id="{key}"', text).encode()


def prepare(url: str, files: dict[str, bytes]) -> None:
    upgrade(url)
    ctx = engine.open_engine(engine.Settings(database_url=url, inline_worker=False))
    engine.load_demo_identity(ctx)
    engine.deploy(ctx, files, actor="bench")
    ctx.db.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StatsRefresher:
    """ANALYZE the database every `every` seconds while a bench runs, when the server has autovacuum off.

    This machine's PostgreSQL runs with `autovacuum = off`, so a fresh bench database never gets planner
    statistics: PostgreSQL then plans a 300-task inbox as a nested loop (52 ms instead of 1.7 ms) and the
    benchmark measures a misconfigured server. Production PostgreSQL runs autovacuum; this stands in for it.
    """

    def __init__(self, url: str, every: float = 20.0) -> None:
        self._dsn = url.replace("postgresql+psycopg://", "postgresql://")
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if url.startswith("postgresql"):
            with psycopg.connect(self._dsn, autocommit=True) as conn:
                if conn.execute("SHOW autovacuum").fetchone()[0] == "off":
                    self._thread = threading.Thread(target=self._run, daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            with psycopg.connect(self._dsn, autocommit=True) as conn:
                conn.execute("ANALYZE")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class Server:
    """`uvicorn api.app:build_app --factory --workers N` on 127.0.0.1 with HWF_* settings in the environment.

    On PostgreSQL a StatsRefresher runs for the server's lifetime.
    """

    def __init__(self, url: str, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.stats = StatsRefresher(url)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "HWF_DATABASE_URL": url, "PYTHONPATH": str(ROOT), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:build_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
             "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS)],
            cwd=ROOT, env=full_env, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    time.sleep(0.5 * workers)  # let every worker process finish starting
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("uvicorn did not start")

    def stop(self) -> None:
        self.stats.stop()
        stop_processes([self.proc], timeout=15)


async def login(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/auth/login", json={"identifier": user, "password": DEMO_PASSWORD})
    r.raise_for_status()
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def summary(samples: list[float]) -> str:
    if not samples:
        return "n=0"
    return (f"n={len(samples)} mean={statistics.fmean(samples) * 1000:.1f} p50={pct(samples, .5):.1f} "
            f"p95={pct(samples, .95):.1f} p99={pct(samples, .99):.1f} ms")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def stop_processes(procs: list[subprocess.Popen], timeout: float = 20) -> None:
    """SIGTERM each process group still running, then SIGKILL those not gone within `timeout` seconds."""
    for pr in procs:
        if pr.poll() is None:
            os.killpg(pr.pid, signal.SIGTERM)
    for pr in procs:
        try:
            pr.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pr.pid, signal.SIGKILL)
