"""Benchmark: the inbox page for a user with 10,000 open tasks, on SQLite and PostgreSQL.

Data generator (bulk INSERTs through SQLAlchemy Core, no engine commands, ~seconds):
  * the shipped `leave_request` process is deployed normally (one definition row);
  * N instances (default 10,000) of it for the measured user's institution `h1`, each with ONE open
    human task: 70 % claimable through the role `dept_head` in h1 (task_candidates role row),
    20 % assigned to the user directly, 10 % named candidate user; due dates spread over ±10 days
    (about half overdue), priorities 0/1/2, titles "申请人N 请假 K天";
  * the same number again as noise: tasks of other institutions/roles/users the user must NOT see,
    plus completed tasks, so the authorization filter has work to do.
Workflow state is an empty string: the inbox never reads it (human tasks are materialised).

Measured (after 3 warm-up runs, R repetitions each):
  * query: `engine.inbox_page()` (page + total + badge counts) for the default view and for
    sort by due date, overdue filter, search, and a deep page;
  * page: GET /inbox through the ASGI app in-process (FastAPI + Jinja2 render), timed inside the app
    from request to last body byte (server side; the TestClient's own thread hop is printed apart).
Run: .venv/bin/python bench/inbox_page.py [--tasks 10000] [--repeat 30] [--skip-pg]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

import engine  # noqa: E402
from api.main import create_app  # noqa: E402
from engine.config import PROJECT_ROOT  # noqa: E402
from engine.inbox import visible_tasks  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import HumanTask, Instance, TaskCandidate  # noqa: E402

USER = engine.Subject("dr_bench", {"h1": frozenset({"dept_head", "doctor"})}, "王主任")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 2000


def _rows(ctx: engine.EngineContext, definition_id: str, count: int, visible: bool, rng: random.Random):
    now = ctx.clock.now()
    instances, tasks, candidates = [], [], []
    for n in range(count):
        iid, tid = str(uuid.uuid4()), str(uuid.uuid4())
        days = rng.choice([1, 2, 3, 5, 10, 20])
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        institution = "h1" if visible else rng.choice(["h2", "h3", "h1"])
        title = f"申请人{n} 请假 {days}天"
        instances.append(dict(id=iid, definition_id=definition_id, process_key="leave_request", version=1,
                              business_key=f"B{n}", institution=institution, initiator=f"nurse{n % 500}",
                              title=title, status="running", state="", created_at=created, updated_at=created,
                              row_version=1))
        kind = rng.random()
        assignee = USER.username if visible and kind < 0.2 else None
        state = "open" if visible or rng.random() < 0.7 else "completed"
        tasks.append(dict(id=tid, instance_id=iid, spiff_task_id=str(uuid.uuid4()), seq=1,
                          node_id="dept_head_review", name="科主任审批", process_key="leave_request",
                          title=title, form_key="leave_review", candidate_roles=["dept_head"],
                          candidate_users=[], institution=institution, assignee=assignee, state=state,
                          due_at=now + timedelta(hours=rng.randint(-240, 240)),
                          priority=rng.choice([0, 0, 0, 1, 2]),
                          created_at=created, completed_by=None if state == "open" else "someone_else"))
        if state != "open":
            continue
        if visible and 0.2 <= kind < 0.3:
            candidates.append(dict(task_id=tid, kind="user", value=USER.username, institution=institution))
        elif visible:
            candidates.append(dict(task_id=tid, kind="role", value="dept_head", institution=institution))
        else:
            role = "dept_head" if institution != "h1" else rng.choice(["finance", "medical_affairs"])
            candidates.append(dict(task_id=tid, kind="role", value=role, institution=institution))
    return instances, tasks, candidates


def generate(ctx: engine.EngineContext, count: int) -> None:
    deployed = engine.deploy_directory(ctx, PROJECT_ROOT / "processes" / "approvals", actor="bench")
    [result] = [r for r in deployed if r.process_key == "leave_request"]
    rng = random.Random(7)
    for visible in (True, False):
        instances, tasks, candidates = _rows(ctx, result.definition_id, count, visible, rng)
        with ctx.db.engine.begin() as conn:
            for table, rows in ((Instance, instances), (HumanTask, tasks), (TaskCandidate, candidates)):
                for i in range(0, len(rows), BATCH):
                    conn.execute(insert(table.__table__), rows[i:i + BATCH])
        with ctx.db.engine.begin() as conn:  # fresh statistics, as autovacuum / a DBA would have them
            conn.exec_driver_sql("ANALYZE")


def _timed(fn, repeat: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def run(name: str, url: str, count: int, repeat: int) -> None:
    upgrade(url)
    ctx = engine.open_engine(engine.Settings(database_url=url))
    t0 = time.perf_counter()
    generate(ctx, count)
    print(f"\n[{name}] generated {count} visible + {count} other tasks in {time.perf_counter() - t0:.1f}s")
    page = engine.inbox_page(ctx, USER)
    assert page.capped and len(page.rows) == 20, page.total  # totals are counted up to 1,000 ("1000+")
    with ctx.db.engine.connect() as conn:  # the generator made exactly `count` tasks visible to the user
        exact = conn.scalar(select(func.count()).select_from(visible_tasks(USER).subquery()))
    assert exact == count, exact
    views = {
        "default (received desc)": engine.InboxQuery(),
        "sort by due": engine.InboxQuery(sort="due", descending=False),
        "overdue only": engine.InboxQuery(overdue=True),
        "search '申请人77'": engine.InboxQuery(search="申请人77"),
        "page 200 of 500": engine.InboxQuery(page=200),
    }
    print(f"  {'query (engine.inbox_page)':34s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, query in views.items():
        p50, p95 = _timed(lambda q=query: engine.inbox_page(ctx, USER, q), repeat)
        print(f"  {label:34s} {p50:8.1f} {p95:8.1f}")
    app = create_app(ctx, authenticate=lambda _r: USER)
    server_ms: list[float] = []

    class ServerTimer:
        """ASGI wrapper: time from the request entering the app to the last body byte (server side)."""

        def __init__(self, inner):  # noqa: ANN001
            self.inner = inner

        async def __call__(self, scope, receive, send):  # noqa: ANN001
            if scope["type"] != "http":
                return await self.inner(scope, receive, send)
            start = time.perf_counter()

            async def timed_send(message):  # noqa: ANN001
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    server_ms.append((time.perf_counter() - start) * 1000)

            return await self.inner(scope, receive, timed_send)

    client = TestClient(ServerTimer(app))

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    print(f"  {'page (server-side, GET)':34s} {'p50 ms':>8s} {'p95 ms':>8s}   (client round trip p50)")
    for label, path in (("/inbox", "/inbox"),
                        ("/inbox?sort=due&dir=asc&size=100", "/inbox?sort=due&dir=asc&size=100"),
                        ("/inbox?overdue=1&q=申请人1", "/inbox?overdue=1&q=%E7%94%B3%E8%AF%B7%E4%BA%BA1")):
        round_trip, _ = _timed(lambda p=path: get(p), 3)
        server_ms.clear()
        _timed(lambda p=path: get(p), repeat)
        samples = sorted(server_ms[3:])
        p50, p95 = statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]
        print(f"  {label:34s} {p50:8.1f} {p95:8.1f}   ({round_trip:.1f})")
    ctx.db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    run("SQLite", f"sqlite:///{folder / 'bench.db'}", args.tasks, args.repeat)
    if not args.skip_pg:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "hwf_bench_inbox" WITH (FORCE)')
            conn.execute('CREATE DATABASE "hwf_bench_inbox"')
        try:
            run("PostgreSQL", "postgresql+psycopg://postgres@127.0.0.1:5432/hwf_bench_inbox", args.tasks,
                args.repeat)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "hwf_bench_inbox" WITH (FORCE)')


if __name__ == "__main__":
    main()
