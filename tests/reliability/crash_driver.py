"""A process that runs engine commands in a loop until it is killed (used by the crash trials)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import engine  # noqa: E402

DOCTOR = engine.Subject("doc", {"h1": frozenset({"doctor", "dept_head"})})


def main(url: str) -> None:
    ctx = engine.open_engine(engine.Settings(database_url=url))
    announced = False
    while True:
        view = engine.start_instance(ctx, "parallel_review", initiator="a", institution="h1")
        tasks = list(view.open_tasks)
        while tasks:
            result = engine.complete_task(ctx, tasks.pop(0).id, DOCTOR, outcome="approve", data={"note": "ok"})
            tasks.extend(result.created)
            if not announced:  # the trial kills at random points measured from here, not from start-up
                print("ready", flush=True)
                announced = True


if __name__ == "__main__":
    main(sys.argv[1])
