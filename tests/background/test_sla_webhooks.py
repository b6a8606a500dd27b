"""SLA escalation per step, and signed webhooks with retries."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine import (
    Subject,
    cancel_instance,
    complete_task,
    create_webhook,
    get_instance,
    list_incidents,
    list_tasks,
    overdue_tasks,
    run_due_jobs,
    start_instance,
    verify_signature,
)
from engine.models import AuditRecord, TaskSla
from tests.background.conftest import deploy_bg

STAFF = Subject("zhang", {"h1": frozenset({"staff"})})
HEAD = Subject("dr_wang", {"h1": frozenset({"dept_head"})})


def test_overdue_tasks_escalate_per_step(bg, fakes, clock):
    deploy_bg(bg, "bg_sla.bpmn")
    view = start_instance(bg, "bg_sla", initiator="alice", institution="h1")
    assert len(list_tasks(bg, STAFF)) == 3 and overdue_tasks(bg) == []
    clock.advance(minutes=61)
    run_due_jobs(bg, "w")
    [notice] = fakes["notify"].calls("/staff-messages")
    assert notice["json"]["step"] == "通知" and notice["headers"]["idempotency-key"].startswith("overdue:")
    [late] = overdue_tasks(bg)
    assert late["task"].node_id == "step_notify" and late["escalation_result"] == "notified"
    clock.advance(hours=1)
    run_due_jobs(bg, "w")
    assert [t.node_id for t in list_tasks(bg, HEAD)] == ["step_reassign"]
    clock.advance(hours=1)
    run_due_jobs(bg, "w")
    by_node = {t.node_id: t for t in get_instance(bg, view.id).history}
    assert by_node["step_auto"].outcome == "approve" and by_node["step_auto"].completed_by == "system"
    assert by_node["step_auto"].state == "completed"
    with bg.db.unit_of_work() as s:
        assert {r.result for r in s.scalars(select(TaskSla)).all()} == {
            "notified", "reassigned to dept_head", "completed with approve"}
        assert [r.details["escalation"] for r in s.scalars(select(AuditRecord).where(
            AuditRecord.action == "task.escalate").order_by(AuditRecord.seq))] == [
            "notify", "reassign:dept_head", "auto:approve"]


def test_task_completed_in_time_is_not_escalated(bg, fakes, clock):
    deploy_bg(bg, "bg_sla.bpmn")
    start_instance(bg, "bg_sla", initiator="alice", institution="h1")
    for task in list_tasks(bg, STAFF):
        complete_task(bg, task.id, STAFF, outcome="approve")
    clock.advance(hours=5)
    run_due_jobs(bg, "w")
    assert fakes["notify"].calls() == [] and overdue_tasks(bg) == []


def test_webhooks_are_signed_and_retried(bg, fakes, clock):
    receiver = fakes["webhook"]
    hook = create_webhook(bg, receiver.url + "/hooks", ["instance.started", "task.created", "task.completed",
                                                        "instance.completed"], actor="admin", secret="s3cret")
    assert hook.secret == "s3cret"
    deploy_bg(bg, "bg_timers.bpmn")
    receiver.fail_next = 1
    view = start_instance(bg, "bg_timers", initiator="alice", institution="h1", data={"wait_days": 1})
    run_due_jobs(bg, "w")
    assert len(receiver.calls()) == 2  # the first POST got a 500, the other was delivered
    clock.advance(seconds=10)
    run_due_jobs(bg, "w")
    received = receiver.calls()[1:]
    events = sorted(r["headers"]["x-hwf-event"] for r in received)
    assert events == ["instance.started", "task.created"]
    for r in received:
        h = r["headers"]
        assert verify_signature("s3cret", h["x-hwf-timestamp"], r["raw"], h["x-hwf-signature"])
        assert not verify_signature("wrong", h["x-hwf-timestamp"], r["raw"], h["x-hwf-signature"])
    deliveries = [r["headers"]["x-hwf-delivery"] for r in receiver.calls()]
    assert len(deliveries) == 3 and len(set(deliveries)) == 2  # the retry reuses its delivery id
    assert all(json.loads(r["raw"])["instance"]["id"] == view.id for r in received)

    [review] = get_instance(bg, view.id).open_tasks
    complete_task(bg, review.id, HEAD, outcome="approve")
    run_due_jobs(bg, "w")
    assert "task.completed" in [r["headers"]["x-hwf-event"] for r in receiver.calls()]


def test_webhook_failing_for_good_is_an_incident_not_an_instance_error(bg, fakes, clock):
    receiver = fakes["webhook"]
    receiver.fail_next = 100
    create_webhook(bg, receiver.url + "/hooks", ["instance.started"], actor="admin")
    deploy_bg(bg, "bg_timers.bpmn")
    view = start_instance(bg, "bg_timers", initiator="alice", institution="h1", data={"wait_days": 1})
    for _ in range(3):
        run_due_jobs(bg, "w")
        clock.advance(seconds=60)
    [incident] = list_incidents(bg)
    assert incident.kind == "webhook" and incident.attempts == 3
    assert get_instance(bg, view.id).status == "running"


def test_cancelling_an_instance_notifies_subscribers_with_the_reason(bg, fakes):
    receiver = fakes["webhook"]
    create_webhook(bg, receiver.url + "/hooks", ["instance.cancelled"], actor="admin", secret="s3cret")
    deploy_bg(bg, "bg_timers.bpmn")
    view = start_instance(bg, "bg_timers", initiator="alice", institution="h1", data={"wait_days": 1})
    cancel_instance(bg, view.id, actor="his", reason="患者撤销申请")
    run_due_jobs(bg, "w")
    [call] = receiver.calls()
    body = json.loads(call["raw"])
    assert call["headers"]["x-hwf-event"] == "instance.cancelled"
    assert body["instance"] == {**body["instance"], "id": view.id, "status": "cancelled"}
    assert body["reason"] == "患者撤销申请" and body["cancelled_by"] == "his"
    assert [t["node_id"] for t in body["cancelled_tasks"]] == ["review"]
