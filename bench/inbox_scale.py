"""Inbox query at scale: 1,000,000 closed + 100,000 open tasks across 26 institutions (PostgreSQL).

Data generator (fixed seed 20261123, reproducible; bulk COPY through psycopg, no engine commands):
  * the shipped approvals are deployed normally; every generated instance points at `leave_request`;
  * 26 institutions inst01..inst26, 20 roles, 1,000 users (user0000..user0999, each in one institution);
  * --closed completed tasks (default 1,000,000) on --closed/10 completed instances (10 steps each),
    completed_by a random user; --open open tasks (default 100,000), one per running instance,
    candidates: 80 % a role in the task's institution (task_candidates role row), 10 % assigned
    to a user, 10 % a named candidate user; due ±10 days, priorities 0/1/2;
  * ANALYZE at the end. This machine's PostgreSQL runs with autovacuum off, so the visibility map stays
    empty and index-only scans still read the table; --vacuum runs VACUUM ANALYZE first (what autovacuum's
    insert-triggered vacuum would have done in production) to measure that case too.
Measured (3 warm-ups, R repetitions): engine.inbox_page() for typical users (a department head with two
roles, a nurse, a user with direct assignments, a user in the smallest institution) in the default view,
sort by due and the done tab; plus the bare visible_tasks() count.

Run: .venv/bin/python bench/inbox_scale.py [--closed 1000000] [--open 100000] [--repeat 30] [--db NAME]
     .venv/bin/python bench/inbox_scale.py --reuse [--db NAME] [--vacuum]   (migrates NAME to head, measures)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from datetime import timedelta

import psycopg
from _http import fresh_pg, load
from sqlalchemy import func, select

import engine  # noqa: E402
from engine.config import PROJECT_ROOT  # noqa: E402
from engine.inbox import visible_tasks  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import HumanTask  # noqa: E402

SEED = 20261123
INSTITUTIONS = [f"inst{i:02d}" for i in range(1, 27)]
ROLES = ["doctor", "nurse", "dept_head", "finance", "medical_affairs", "records_clerk", "records_head",
         "cashier", "referral_office", "admission_center", "anesthetist", "expert", "staff", "pharmacist",
         "lab_tech", "radiologist", "quality", "hr", "logistics", "it_support"]
# institution sizes are skewed (a big main hospital, small community centres)
WEIGHTS = [30, 20, 12, 8, 6, 5, 4, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
USERS = [(f"user{n:04d}", random.Random(n).choices(INSTITUTIONS, WEIGHTS)[0]) for n in range(1000)]
INST_COLS = ("id", "definition_id", "process_key", "version", "business_key", "institution", "initiator",
             "title", "status", "state", "created_at", "updated_at", "ended_at", "row_version")
TASK_COLS = ("id", "instance_id", "spiff_task_id", "seq", "node_id", "name", "process_key", "title",
             "form_key", "candidate_roles", "candidate_users", "institution", "assignee", "state", "due_at",
             "priority", "created_at", "completed_at", "completed_by", "outcome")


def generate(url: str, closed: int, open_: int) -> float:
    upgrade(url)
    ctx = engine.open_engine(engine.Settings(database_url=url, inline_worker=False))
    deployed = engine.deploy_directory(ctx, PROJECT_ROOT / "processes" / "approvals", actor="bench")
    [d] = [r for r in deployed if r.process_key == "leave_request"]
    now = ctx.clock.now()
    ctx.db.engine.dispose()
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    uid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        chunks = [("closed", lo, min(closed // 10, lo + 10_000), 10) for lo in range(0, closed // 10, 10_000)]
        chunks += [("open", lo, min(open_, lo + 50_000), 1) for lo in range(0, open_, 50_000)]
        for kind, lo, hi, per in chunks:
            with cur.copy(f"COPY instances ({', '.join(INST_COLS)}) FROM STDIN") as ci:
                tasks, cands = [], []
                for n in range(lo, hi):
                    iid = uid()
                    inst = rng.choices(INSTITUTIONS, WEIGHTS)[0]
                    days = rng.choice([1, 2, 3, 5, 10, 20])
                    created = now - timedelta(minutes=rng.randint(60, 60 * 24 * 365))
                    title = f"申请人{n} 请假 {days}天"
                    done = kind == "closed"
                    ci.write_row((iid, d.definition_id, "leave_request", 1, f"{kind[0].upper()}{n}", inst,
                                  rng.choice(USERS)[0], title, "completed" if done else "running", "",
                                  created, created, created + timedelta(days=2) if done else None, 1))
                    for step in range(per):
                        tid = uid()
                        role = rng.choice(ROLES)
                        at = created + timedelta(hours=step)
                        r = rng.random()
                        assignee = rng.choice(USERS)[0] if (not done and r < 0.1) else None
                        tasks.append((tid, iid, uid(), step + 1, f"step{step}", "审批", "leave_request", title,
                                      "leave_review", json.dumps([role]), "[]", inst, assignee,
                                      "completed" if done else "open",
                                      now + timedelta(hours=rng.randint(-240, 240)), rng.choice([0, 0, 0, 1, 2]),
                                      at, at + timedelta(minutes=30) if done else None,
                                      rng.choice(USERS)[0] if done else None, "approve" if done else None))
                        if not done and 0.1 <= r < 0.2:
                            cands.append((tid, "user", rng.choice(USERS)[0], inst))
                        elif not done and r >= 0.2:
                            cands.append((tid, "role", role, inst))
            with cur.copy(f"COPY human_tasks ({', '.join(TASK_COLS)}) FROM STDIN") as ct:
                for row in tasks:
                    ct.write_row(row)
            with cur.copy("COPY task_candidates (task_id, kind, value, institution) FROM STDIN") as cc:
                for row in cands:
                    cc.write_row(row)
            conn.commit()
            print(f"  {kind}: +{len(tasks)} tasks on {hi - lo} instances, {time.perf_counter() - t0:.0f}s", flush=True)
        conn.autocommit = True
        cur.execute("ANALYZE")
    return time.perf_counter() - t0


def typical_users() -> list[tuple[str, engine.Subject]]:
    by_inst: dict[str, list[str]] = {}
    for name, inst in USERS:
        by_inst.setdefault(inst, []).append(name)
    big, small = by_inst["inst01"], by_inst[INSTITUTIONS[-1]] or by_inst["inst02"]
    return [
        ("dept_head+doctor @inst01 (largest)", engine.Subject(big[0], {"inst01": frozenset({"dept_head", "doctor"})})),
        ("nurse @inst01", engine.Subject(big[1], {"inst01": frozenset({"nurse"})})),
        ("finance @inst03", engine.Subject(by_inst["inst03"][0], {"inst03": frozenset({"finance"})})),
        ("doctor @inst26 (smallest)", engine.Subject(small[0], {INSTITUTIONS[-1]: frozenset({"doctor"})})),
        ("3 roles in 2 institutions", engine.Subject(big[2], {"inst01": frozenset({"doctor", "expert"}),
                                                              "inst02": frozenset({"expert"})})),
    ]


def backend_cpu_ms(admin: psycopg.Connection, db: str) -> float | None:
    """CPU time used so far by the PostgreSQL backends serving `db` (other than `admin`), from /proc.

    Wall time on this shared 2-core machine swings with other people's load; the CPU the server spends
    on the queries does not, so it is reported next to p50/p95 (PostgreSQL on the same host only).
    """
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                         (db,)).fetchall()
    ticks = 0
    try:
        for (pid,) in rows:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return None
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def timed(fn, repeat: int, cpu) -> tuple[float, float, float | None, float]:
    """p50 and p95 wall ms per call, then server (backend) and client CPU ms per call."""
    for _ in range(3):
        fn()
    s = []
    server0, client0 = cpu(), time.process_time()
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        s.append((time.perf_counter() - t) * 1000)
    server1, client = cpu(), (time.process_time() - client0) * 1000 / repeat
    s.sort()
    server = (server1 - server0) / repeat if server0 is not None and server1 is not None else None
    return statistics.median(s), s[max(0, int(len(s) * 0.95) - 1)], server, client


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--closed", type=int, default=1_000_000)
    p.add_argument("--open", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--db", default="hwf_perf_inbox", help="database name (default hwf_perf_inbox)")
    p.add_argument("--reuse", action="store_true", help="measure an already generated --db")
    p.add_argument("--vacuum", action="store_true", help="VACUUM ANALYZE before measuring")
    a = p.parse_args()
    if a.reuse:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{a.db}"
        upgrade(url)  # new indexes of the code under test
    else:
        url = fresh_pg(a.db)
        print(f"generating {a.closed} closed + {a.open} open tasks (seed {SEED}) ...", flush=True)
        print(f"generated in {generate(url, a.closed, a.open):.0f}s  ({load()})")
    if a.vacuum:
        t = time.perf_counter()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - t:.0f}s")
    ctx = engine.open_engine(engine.Settings(database_url=url, inline_worker=False))
    with ctx.db.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(HumanTask.__table__))
    print(f"\nhuman_tasks rows: {total}   goal: query p95 < 50 ms   ({load()})")
    print(f"  {'user':38s}{'visible':>8s}  {'view':14s}{'p50 ms':>8s}{'p95 ms':>8s}"
          f"{'server CPU':>11s}{'client CPU':>11s}  (CPU: ms per call)")
    admin = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    for label, subject in typical_users():
        with ctx.db.engine.connect() as conn:
            n = conn.scalar(select(func.count()).select_from(visible_tasks(subject).subquery()))
        for view, q in (("default", engine.InboxQuery()), ("sort by due", engine.InboxQuery(sort="due")),
                        ("done tab", engine.InboxQuery(tab="done"))):
            p50, p95, server, client = timed(lambda q=q, s=subject: engine.inbox_page(ctx, s, q), a.repeat,
                                             lambda: backend_cpu_ms(admin, a.db))
            shown = f"{server:11.1f}" if server is not None else f"{'-':>11s}"
            print(f"  {label:38s}{n:>8d}  {view:14s}{p50:8.1f}{p95:8.1f}{shown}{client:11.1f}", flush=True)
    print(f"done ({load()})")
    admin.close()
    ctx.db.engine.dispose()


if __name__ == "__main__":
    main()
