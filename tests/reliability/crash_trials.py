"""kill -9 a process running engine commands at random points; state must equal the last commit.

Each trial starts the driver, lets it run for a random 50-400 ms, SIGKILLs it, then checks
`engine.check_consistency` (audit chain, open tasks == READY steps, every completion audited) and
that a fresh process can keep working on the same data.
Long run: `.venv/bin/python tests/reliability/crash_trials.py --trials 200 [--url postgresql+psycopg://…]`
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

import engine

DRIVER = Path(__file__).with_name("crash_driver.py")
BPMN = Path(__file__).resolve().parents[1] / "engine" / "data" / "parallel_review.bpmn"


def prepare(url: str) -> engine.EngineContext:
    ctx = engine.open_engine(engine.Settings(database_url=url))
    engine.migrate_database(ctx)
    engine.deploy(ctx, {BPMN.name: BPMN.read_bytes()}, actor="crash-test")
    return ctx


def completed_tasks(ctx: engine.EngineContext) -> int:
    with ctx.db.unit_of_work() as session:
        return session.execute(text("select count(*) from human_tasks where state = 'completed'")).scalar()


def run_trials(url: str, trials: int, seed: int = 1) -> list[str]:
    """Returns every consistency problem found (empty = all trials passed)."""
    ctx = prepare(url)
    rng = random.Random(seed)
    problems: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(DRIVER.parents[2])}
    for trial in range(trials):
        proc = subprocess.Popen([sys.executable, str(DRIVER), url], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.stdout.readline().strip() != "ready":
            proc.wait()
            last = (proc.stderr.read().strip().splitlines() or ["no output"])[-1]
            problems.append(f"trial {trial}: driver exited before its first commit: {last}")
            continue
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        found = engine.check_consistency(ctx)
        problems.extend(f"trial {trial}: {p}" for p in found)
    ctx.db.engine.dispose()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/crash.db"
    started = time.perf_counter()
    problems = run_trials(url, args.trials)
    completed = completed_tasks(engine.open_engine(engine.Settings(database_url=url)))
    print(f"{args.trials} kill -9 trials in {time.perf_counter() - started:.0f}s, {completed} task completions "
          f"committed, {len(problems)} consistency problems")
    for p in problems[:20]:
        print(" ", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
