"""A user task looped 1,000 times keeps working, and per-step state stays flat (no depth stall)."""
from __future__ import annotations

from engine import Subject, complete_task, deploy, get_instance, list_tasks, start_instance
from tests.conftest import read_bundle, sql

NURSE = Subject("nurse_a")


def test_thousand_iterations_complete_and_state_stays_small(ctx):
    bundle = read_bundle("loop.bpmn")
    deploy(ctx, bundle, actor="admin")
    view = start_instance(ctx, "loop", initiator="a", institution="h1", data={"rounds": 0})
    sizes = []
    for i in range(1000):
        [task] = list_tasks(ctx, NURSE)
        complete_task(ctx, task.id, NURSE, outcome="again" if i < 999 else "approve")
        if i in (10, 100, 998):
            sizes.append(sql(ctx, "select length(state) from instances where id = :i", i=view.id)[0][0])
    final = get_instance(ctx, view.id, with_data=True)
    assert final.status == "completed"
    assert final.data["rounds"] == 1000
    assert len(final.history) == 1000
    assert max(sizes) < 1.2 * min(sizes), sizes
