"""An event-based gateway waits on several catches at once; the first one to happen wins.

SpiffWorkflow keeps such a gateway as ONE waiting task with a multiple event definition; the
timers and message waits behind it must still get their jobs and index rows.
"""
from __future__ import annotations

from sqlalchemy import select

from engine import deliver_message, get_instance, run_due_jobs, start_instance
from engine.models import Job, MessageWait
from tests.background.conftest import deploy_bg


def _start(ctx, key, deadline_days=3):
    deploy_bg(ctx, "bg_event_gateway.bpmn")
    return start_instance(ctx, "bg_event_gateway", initiator="alice", institution="h1", business_key=key,
                          data={"deadline_days": deadline_days})


def _state(ctx, instance_id):
    view = get_instance(ctx, instance_id, with_data=True)
    return view.status, [t.node_id for t in view.open_tasks], view.data.get("ended_by")


def _pending_timers(ctx, instance_id):
    with ctx.db.unit_of_work() as s:
        return s.scalars(select(Job).where(Job.kind == "timer", Job.instance_id == instance_id,
                                           Job.status == "pending")).all()


def _waits(ctx, instance_id):
    with ctx.db.unit_of_work() as s:
        return sorted(s.scalars(select(MessageWait.message_name).where(MessageWait.instance_id == instance_id)))


def test_gateway_indexes_every_message_and_schedules_the_earliest_timer(bg, clock):
    view = _start(bg, "BK-1", deadline_days=3)
    assert _waits(bg, view.id) == ["patient_cancel", "payment_result"]
    [job] = _pending_timers(bg, view.id)
    assert (job.run_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).days == 3


def test_message_wins_and_the_timer_then_does_nothing(bg, clock):
    view = _start(bg, "BK-2")
    result = deliver_message(bg, "payment_result", correlation_key="BK-2", payload={"status": "paid"})
    assert result.status == "delivered" and result.instance_ids == [view.id]
    assert _state(bg, view.id) == ("running", ["upload"], None)
    assert get_instance(bg, view.id, with_data=True).data["payment_result"] == {"status": "paid"}
    assert _waits(bg, view.id) == []
    clock.advance(days=8)
    run_due_jobs(bg, "w")
    assert _state(bg, view.id) == ("running", ["upload"], None)


def test_the_other_message_takes_its_own_branch(bg):
    view = _start(bg, "BK-3")
    deliver_message(bg, "patient_cancel", correlation_key="BK-3", payload={})
    assert _state(bg, view.id) == ("completed", [], "cancel")
    late = deliver_message(bg, "payment_result", correlation_key="BK-3", payload={"status": "paid"})
    assert late.status == "buffered"


def test_the_earliest_timer_wins_when_no_message_comes(bg, clock):
    short, long_ = _start(bg, "BK-4", deadline_days=3), _start(bg, "BK-5", deadline_days=10)
    clock.advance(days=3, minutes=1)
    run_due_jobs(bg, "w")
    assert _state(bg, short.id) == ("completed", [], "deadline")
    assert _state(bg, long_.id)[0] == "running"
    clock.advance(days=4)
    run_due_jobs(bg, "w")
    assert _state(bg, long_.id) == ("completed", [], "expired")
    assert _waits(bg, long_.id) == []


def test_a_message_that_came_early_is_matched_when_the_gateway_waits(bg):
    early = deliver_message(bg, "payment_result", correlation_key="BK-6", payload={"status": "paid"})
    assert early.status == "buffered"
    view = _start(bg, "BK-6")
    run_due_jobs(bg, "w")
    assert _state(bg, view.id) == ("running", ["upload"], None)
