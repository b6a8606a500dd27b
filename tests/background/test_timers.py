"""Timers fired by jobs at clock-computed due times: boundary (interrupting / non-interrupting),
intermediate, cycle, timer start events, and a timer due while nothing was running."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import Subject, complete_task, find_instances, get_instance, run_due_jobs, start_instance, tick
from engine.jobs.inline import InlineWorker
from engine.models import Job
from tests.background.conftest import deploy_bg

HEAD = Subject("dr_wang", {"h1": frozenset({"dept_head"})})


def _open(ctx, instance_id):
    return sorted(t.node_id for t in get_instance(ctx, instance_id).open_tasks)


def _timer_jobs(ctx):
    with ctx.db.unit_of_work() as s:
        return list(s.scalars(select(Job).where(Job.kind == "timer").order_by(Job.run_at)).all())


def _start_timers(ctx, days=1):
    deploy_bg(ctx, "bg_timers.bpmn")
    return start_instance(ctx, "bg_timers", initiator="alice", institution="h1", data={"wait_days": days})


def test_due_times_come_from_the_injected_clock(bg, clock):
    view = _start_timers(bg)
    due = sorted((j.run_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).total_seconds()
                 for j in _timer_jobs(bg))
    assert due == [30 * 60, 2 * 3600]
    assert run_due_jobs(bg, "w") == 0 and _open(bg, view.id) == ["review"]


def test_non_interrupting_then_interrupting_boundary(bg, clock):
    view = _start_timers(bg)
    clock.advance(minutes=30)
    assert run_due_jobs(bg, "w") == 1
    assert _open(bg, view.id) == ["reminder", "review"]  # review keeps running
    clock.advance(minutes=90)
    assert run_due_jobs(bg, "w") == 1
    assert _open(bg, view.id) == ["reminder", "timed_out"]  # review was cancelled


def test_timer_cancelled_by_completion_does_nothing_and_intermediate_fires(bg, clock):
    view = _start_timers(bg, days=3)
    [review] = [t for t in get_instance(bg, view.id).open_tasks if t.node_id == "review"]
    complete_task(bg, review.id, HEAD, outcome="approve")
    clock.advance(hours=3)
    run_due_jobs(bg, "w")  # both boundary timers are gone with their task: no effect
    assert _open(bg, view.id) == []
    [wait] = [j for j in _timer_jobs(bg) if j.status == "pending"]
    waits_for = wait.run_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)
    assert waits_for.total_seconds() == 3 * 86400 - 3 * 3600
    clock.advance(days=3)
    run_due_jobs(bg, "w")
    assert _open(bg, view.id) == ["after_wait"]


def test_cycle_boundary_fires_three_times_then_stops(bg, clock):
    deploy_bg(bg, "bg_cycle.bpmn")
    view = start_instance(bg, "bg_cycle", initiator="alice", institution="h1")
    for _ in range(5):
        clock.advance(hours=1)
        run_due_jobs(bg, "w")
    assert _open(bg, view.id) == ["nag", "nag", "nag", "work"]
    assert sum(j.status == "done" for j in _timer_jobs(bg)) == 3


def test_timer_start_event_starts_one_instance_per_occurrence(bg, clock):
    deploy_bg(bg, "bg_timer_start.bpmn")
    assert tick(bg)["start_timers"] == 1
    assert tick(bg)["start_timers"] == 0  # one pending occurrence at a time
    clock.advance(hours=1)
    run_due_jobs(bg, "w")
    [first] = find_instances(bg, process_key="bg_timer_start")
    assert first.initiator == "system" and [t.node_id for t in first.open_tasks] == ["daily_check"]
    tick(bg)
    clock.advance(hours=1)
    run_due_jobs(bg, "w")
    tick(bg)
    clock.advance(hours=5)
    run_due_jobs(bg, "w")
    assert len(find_instances(bg, process_key="bg_timer_start")) == 2  # R2: two occurrences only


@pytest.mark.commits
def test_timer_due_while_the_api_was_down_fires_on_a_fresh_worker(bg, clock):
    view = _start_timers(bg)
    clock.advance(days=2)  # nothing ran meanwhile
    worker = InlineWorker(bg, poll_seconds=0.05, tick_seconds=3600)
    worker.start()
    try:
        import time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _open(bg, view.id) != ["reminder", "timed_out"]:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert _open(bg, view.id) == ["reminder", "timed_out"]
