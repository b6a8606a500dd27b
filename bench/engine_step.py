"""Benchmark: a persisted engine step vs the raw in-memory SpiffWorkflow load+complete+save cycle.

(a) raw: SpiffWorkflow's stock serializer (JSON with spec), deserialize -> complete the ready user task
    -> do_engine_steps -> serialize, per step, no database.
(b) engine: `complete_task` with persistence (workflow state, human-task rows, audit chain) on SQLite
    and on PostgreSQL, one transaction per step.
Prints per-step latency (mean, p50, p95, p99), the ratio (b)/(a), 5-step instances per second, and the
median CPU time of this process per step (`cpu50`: steadier than wall time on a shared machine; for
PostgreSQL it leaves out the server's share).

Run: make bench   (or .venv/bin/python bench/engine_step.py --instances 200)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser  # noqa: E402
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

import engine  # noqa: E402
from bench._http import fresh_pg  # noqa: E402
from engine.bpmn.script_env import make_script_engine  # noqa: E402
from engine.context import EngineContext  # noqa: E402

BPMN = Path(__file__).with_name("five_step.bpmn")
USER = engine.Subject("u")


def _stats(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {"mean": statistics.fmean(s) * 1000, "p50": pick(0.5) * 1000, "p95": pick(0.95) * 1000,
            "p99": pick(0.99) * 1000}


def bench_raw(instances: int) -> tuple[list[float], float, list[float]]:
    parser = CamundaParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec("five_step")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    steps, cpu, started = [], [], time.perf_counter()
    for _ in range(instances):
        wf = BpmnWorkflow(spec, script_engine=make_script_engine())
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
        while True:
            t0, c0 = time.perf_counter(), time.thread_time()
            wf = serializer.deserialize_json(state)
            wf.script_engine = make_script_engine()
            ready = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            ready[0].data["outcome"] = "approve"
            ready[0].run()
            wf.do_engine_steps()
            state = serializer.serialize_json(wf)
            steps.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    return steps, time.perf_counter() - started, cpu


def _context(url: str) -> EngineContext:
    """The context every platform process opens: migrated, seeded policy, Casbin decision hook installed."""
    ctx = engine.open_engine(engine.Settings(database_url=url))
    engine.migrate_database(ctx)
    return ctx


def bench_engine(url: str, instances: int) -> tuple[list[float], float, list[float]]:
    ctx = _context(url)
    engine.deploy(ctx, {BPMN.name: BPMN.read_bytes()}, actor="bench")
    steps, cpu, started = [], [], time.perf_counter()
    for n in range(instances):
        view = engine.start_instance(ctx, "five_step", initiator="u", institution="h1", business_key=f"b{n}")
        task = view.open_tasks[0]
        while True:
            t0, c0 = time.perf_counter(), time.thread_time()
            result = engine.complete_task(ctx, task.id, USER, outcome="approve")
            steps.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            if not result.created:
                break
            task = result.created[0]
    elapsed = time.perf_counter() - started
    ctx.db.engine.dispose()
    return steps, elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=200)
    args = parser.parse_args()
    raw_steps, raw_elapsed, raw_cpu = bench_raw(args.instances)
    raw = _stats(raw_steps)
    print(f"five-step process, {args.instances} instances, {len(raw_steps)} steps each run\n")
    print(f"{'run':<22}{'mean ms':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'ratio':>8}{'inst/s':>9}{'cpu50':>8}")
    print(f"{'raw SpiffWorkflow':<22}{raw['mean']:>9.2f}{raw['p50']:>8.2f}{raw['p95']:>8.2f}{raw['p99']:>8.2f}"
          f"{1.0:>8.2f}{args.instances / raw_elapsed:>9.1f}{statistics.median(raw_cpu) * 1000:>8.2f}")
    sqlite_url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    for label, url in (("engine + SQLite", sqlite_url), ("engine + PostgreSQL", fresh_pg("hwf_bench"))):
        steps, elapsed, cpu = bench_engine(url, args.instances)
        s = _stats(steps)
        print(f"{label:<22}{s['mean']:>9.2f}{s['p50']:>8.2f}{s['p95']:>8.2f}{s['p99']:>8.2f}"
              f"{s['mean'] / raw['mean']:>8.2f}{args.instances / elapsed:>9.1f}{statistics.median(cpu) * 1000:>8.2f}")


if __name__ == "__main__":
    main()
