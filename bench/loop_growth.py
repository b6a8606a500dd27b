"""Benchmark: per-step cost of an instance that has already looped 10, 100 and 1,000 times.

Without history compaction SpiffWorkflow's tree grows one level per iteration (and stalls near
depth 1000); with it, per-step cost and stored state should stay flat. Prints the mean step time
measured over a window at each history length, the growth ratio against the 10-iteration point,
and the stored state size.

Run: .venv/bin/python bench/loop_growth.py
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

import engine  # noqa: E402
from engine.bpmn.runtime import BpmnRuntime  # noqa: E402
from engine.bpmn.script_env import make_script_engine  # noqa: E402
from engine.context import EngineContext  # noqa: E402
from engine.db import Database, make_engine  # noqa: E402
from engine.migrate import upgrade  # noqa: E402

LOOP = Path(__file__).resolve().parent.parent / "tests" / "engine" / "data" / "loop.bpmn"
NURSE = engine.Subject("nurse_a")
CHECKPOINTS = (10, 100, 1000)
WINDOW = 20


def main() -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/loop.db"
    upgrade(url)
    settings = engine.Settings(database_url=url)
    ctx = EngineContext(settings=settings, db=Database(make_engine(url)),
                        runtime=BpmnRuntime(lambda: make_script_engine(1.0)), clock=engine.SystemClock())
    engine.deploy(ctx, {LOOP.name: LOOP.read_bytes()}, actor="bench")
    view = engine.start_instance(ctx, "loop", initiator="a", institution="h1", data={"rounds": 0})
    task_id = view.open_tasks[0].id
    results = {}
    done = 0
    for checkpoint in CHECKPOINTS:
        samples = []
        while done < checkpoint + WINDOW:
            t0 = time.perf_counter()
            result = engine.complete_task(ctx, task_id, NURSE, outcome="again")
            elapsed = time.perf_counter() - t0
            done += 1
            task_id = result.created[0].id
            if done > checkpoint:
                samples.append(elapsed)
        with ctx.db.unit_of_work() as session:
            size = session.execute(text("select length(state) from instances where id = :i"), {"i": view.id}).scalar()
        results[checkpoint] = (statistics.fmean(samples) * 1000, size)
    base = results[CHECKPOINTS[0]][0]
    print(f"{'iterations':>10}{'step ms':>10}{'growth':>9}{'state bytes':>13}")
    for checkpoint, (ms, size) in results.items():
        print(f"{checkpoint:>10}{ms:>10.2f}{ms / base:>9.2f}{size:>13}")


if __name__ == "__main__":
    main()
