"""Timer lateness in the embedded mode: start instances waiting on short timers, let the inline worker
fire them, and print how late each fired (job finished_at - due). Usage:

    PYTHONPATH=. .venv/bin/python bench/timer_lateness.py [instances] [seconds]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from engine import Settings, deploy, open_engine, start_inline_worker, start_instance
from engine.migrate import upgrade
from engine.models import Job

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="bench_timer" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT%dS" % delay</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="wait" targetRef="after"/>
    <bpmn:userTask id="after" name="到期后"/>
    <bpmn:sequenceFlow id="f2" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    spread = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    folder = Path(tempfile.mkdtemp(prefix="hwf-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    ctx = open_engine(Settings(database_url=url, var_dir=folder))
    deploy(ctx, {"bench.bpmn": BPMN.encode()}, actor="bench")
    worker = start_inline_worker(ctx)
    began = time.monotonic()
    for i in range(count):
        start_instance(ctx, "bench_timer", initiator="bench", institution="h1", data={"delay": 2 + i % spread})
    created = time.monotonic() - began
    deadline = time.monotonic() + spread + 60
    while time.monotonic() < deadline:
        with ctx.db.unit_of_work() as s:
            rows = s.execute(select(Job.run_at, Job.finished_at).where(Job.kind == "timer", Job.status == "done")).all()
        if len(rows) == count:
            break
        time.sleep(0.5)
    worker.stop()
    late = sorted((f - r).total_seconds() for r, f in rows)
    p95 = late[int(0.95 * (len(late) - 1))]
    print(f"embedded mode, SQLite, poll {ctx.settings.job_poll_seconds}s: {len(late)}/{count} timers fired "
          f"(start rate {count / created:.0f}/s)")
    print(f"lateness p50 {statistics.median(late):.3f}s  p95 {p95:.3f}s  max {late[-1]:.3f}s  (goal p95 < 5 s)")


if __name__ == "__main__":
    main()
