"""Count the SQL statements of one `complete_task` (five-step process) and list them.

Run: .venv/bin/python bench/step_sql.py [--pg] [--instances 5] [--verbose]
Prints statements per completion (mean over the run) and, with --verbose, each distinct statement
with how often it ran per completion. Used to check that the per-step work stays a handful of round trips.
On PostgreSQL it also counts round trips: statements sent on their own, plus BEGIN (psycopg sends it
before the first statement), pool pings and the COMMIT, which carries the statements pipelined with it.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from bench._http import fresh_pg  # noqa: E402
from bench.engine_step import BPMN, USER, _context  # noqa: E402


def _watch(db_engine: Any, counting: list[bool], pg: bool) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Count statements (by text) and round trips while `counting[0]` is set."""
    seen: collections.Counter[str] = collections.Counter()
    trips: collections.Counter[str] = collections.Counter()

    @event.listens_for(db_engine, "before_cursor_execute")
    def _count(conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001, ANN202
        if counting[0]:
            seen[" ".join(statement.split())[:160]] += 1
            pipelined = pg and conn.connection.driver_connection.pgconn.pipeline_status
            trips["pipelined with COMMIT" if pipelined else "statements"] += 1

    @event.listens_for(db_engine, "begin")
    def _begin(_conn):  # noqa: ANN001, ANN202
        if counting[0]:
            trips["BEGIN"] += 1

    @event.listens_for(db_engine, "commit")
    def _commit(_conn):  # noqa: ANN001, ANN202
        if counting[0]:
            trips["COMMIT"] += 1

    ping = db_engine.dialect.do_ping

    def _ping(dbapi_conn):  # noqa: ANN001, ANN202
        if counting[0]:
            trips["pool ping"] += 1
        return ping(dbapi_conn)

    db_engine.dialect.do_ping = _ping
    return seen, trips


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    url = fresh_pg("hwf_bench_sql") if args.pg else f"sqlite:///{tempfile.mkdtemp()}/sql.db"
    ctx = _context(url)
    engine.deploy(ctx, {BPMN.name: BPMN.read_bytes()}, actor="bench")
    counting = [False]
    seen, trips = _watch(ctx.db.engine, counting, args.pg)

    completions = 0
    for n in range(args.instances):
        task = engine.start_instance(ctx, "five_step", initiator="u", institution="h1",
                                     business_key=f"b{n}").open_tasks[0]
        while task is not None:
            counting[0] = True
            result = engine.complete_task(ctx, task.id, USER, outcome="approve")
            counting[0] = False
            completions += 1
            task = result.created[0] if result.created else None
    total = sum(seen.values())
    print(f"{'PostgreSQL' if args.pg else 'SQLite'}: {completions} completions, "
          f"{total / completions:.1f} statements per completion")
    if args.pg:
        on_wire = sum(n for kind, n in trips.items() if kind != "pipelined with COMMIT")
        detail = ", ".join(f"{kind} {n / completions:.1f}" for kind, n in sorted(trips.items()))
        print(f"round trips per completion: {on_wire / completions:.1f} ({detail})")
    if args.verbose:
        for statement, count in seen.most_common():
            print(f"{count / completions:6.2f}  {statement}")
    ctx.db.engine.dispose()


if __name__ == "__main__":
    main()
