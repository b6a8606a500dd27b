"""Count the SQL statements of one `complete_task` (five-step process) and list them.

Run: .venv/bin/python bench/step_sql.py [--pg] [--instances 5] [--verbose]
Prints statements per completion (mean over the run) and, with --verbose, each distinct statement
with how often it ran per completion. Used to check that the per-step work stays a handful of round trips.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from bench._http import fresh_pg  # noqa: E402
from bench.engine_step import BPMN, USER, _context  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    url = fresh_pg("hwf_bench_sql") if args.pg else f"sqlite:///{tempfile.mkdtemp()}/sql.db"
    ctx = _context(url)
    engine.deploy(ctx, {BPMN.name: BPMN.read_bytes()}, actor="bench")
    seen: collections.Counter[str] = collections.Counter()
    counting = [False]

    @event.listens_for(ctx.db.engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001, ANN202
        if counting[0]:
            seen[" ".join(statement.split())[:160]] += 1

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
    if args.verbose:
        for statement, count in seen.most_common():
            print(f"{count / completions:6.2f}  {statement}")
    ctx.db.engine.dispose()


if __name__ == "__main__":
    main()
