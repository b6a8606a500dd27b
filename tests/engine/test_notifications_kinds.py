"""Notification kinds not covered elsewhere (completed, transferred, delegated/returned, withdrawn), unread
counts per kind, and a channel job through the worker's retry and give-up path against a real HTTP server."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from engine import (
    claim_task,
    complete_task,
    delegate_task,
    get_instance,
    list_incidents,
    list_notifications,
    mark_read,
    run_due_jobs,
    transfer_task,
    unread_count,
    unread_counts,
    urge,
    withdraw,
)
from engine.models import Job
from tests.engine.operations.helpers import ALICE, ARCHIVIST, EXPERTS, FINANCE, HEAD, HEAD2, MEDICAL, start, task_of
from tests.fakes import servers

E1 = EXPERTS["e1"]


def kinds(ctx, subject):
    return [n["kind"] for n in list_notifications(ctx, subject)]


def test_completed_tells_the_applicant_the_outcome(ctx):
    view = start(ctx, "approval")
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    complete_task(ctx, task_of(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    assert "completed" not in kinds(ctx, ALICE)
    complete_task(ctx, task_of(ctx, ARCHIVIST).id, ARCHIVIST, outcome="approve")
    assert get_instance(ctx, view.id).status == "completed"
    [done] = [n for n in list_notifications(ctx, ALICE) if n["kind"] == "completed"]
    assert done["instance_id"] == view.id and done["title"].startswith("已办结") and "通过" in done["body"]
    assert not done["urgent"]


def test_completed_after_a_rejection_says_ended(ctx):
    start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="reject")
    [done] = [n for n in list_notifications(ctx, ALICE) if n["kind"] == "completed"]
    assert "结束" in done["body"] and "通过" not in done["body"]


def test_transferred_delegated_and_returned(ctx):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}}.get(user, set())
    start(ctx, "approval")
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    transfer_task(ctx, task.id, HEAD, "dr_li", reason="出差")
    [note] = [n for n in list_notifications(ctx, HEAD2) if n["kind"] == "transferred"]
    assert note["task_id"] == task.id and "dr_wang" in note["body"]
    delegate_task(ctx, task.id, HEAD2, "e1")
    assert kinds(ctx, E1) == ["delegated"]
    complete_task(ctx, task.id, E1, outcome="approve", data={"comment": "初审通过"})
    assert "returned" in kinds(ctx, HEAD2)
    assert "transferred" not in kinds(ctx, HEAD)  # the actor is never notified of their own action


def test_withdrawn_tells_the_person_whose_task_was_cancelled(ctx):
    view = start(ctx, "approval")
    claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    withdraw(ctx, view.id, ALICE, reason="填错了")
    [note] = [n for n in list_notifications(ctx, HEAD) if n["kind"] == "withdrawn"]
    assert note["instance_id"] == view.id and "alice" in note["body"]


def test_unread_counts_per_kind(ctx):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    urge(ctx, view.id, ALICE, reason="今天要用")
    assert unread_counts(ctx, E1) == {"assigned": 1, "urged": 1}
    assert unread_count(ctx, E1) == 2
    [urged] = [n["id"] for n in list_notifications(ctx, E1) if n["kind"] == "urged"]
    assert mark_read(ctx, E1, [urged]) == 1
    assert unread_counts(ctx, E1) == {"assigned": 1}
    assert unread_counts(ctx, ARCHIVIST) == {}


@pytest.fixture
def sms():
    system = servers.notify().start()
    yield system
    system.stop()


def _with_sms(ctx, url):
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={
        "notify_channels": {"sms": url}, "quiet_hours": "", "notify_max_attempts": 3, "job_backoff_seconds": 5.0}))


def _job_for(ctx, username):
    """The channel job of the notification to `username` (the applicant has one too, for their own step)."""
    with ctx.db.unit_of_work() as session:
        jobs = session.scalars(select(Job).where(Job.kind == "notify")).all()
    [job] = [j for j in jobs if j.payload["recipients"] == [username]]
    return job


def test_sms_channel_retries_while_the_gateway_fails_then_delivers(ctx, clock, sms):
    ctx = _with_sms(ctx, f"{sms.url}/sms")
    start(ctx, "countersign", rule="all", signers=["e1"])
    sms.fail_next = 2  # the gateway fails both messages (alice's own step, e1's vote) once
    assert run_due_jobs(ctx) == 2
    job = _job_for(ctx, "e1")
    assert (job.status, job.attempts) == ("pending", 1) and "HTTP 500" in job.last_error
    assert run_due_jobs(ctx) == 0  # backing off
    clock.advance(seconds=5)
    assert run_due_jobs(ctx) == 2
    job = _job_for(ctx, "e1")
    assert (job.status, job.attempts) == ("done", 2)
    to_e1 = [c["json"] for c in sms.calls("/sms") if c["json"]["to"] == ["e1"]]
    assert len(to_e1) == 2
    assert to_e1[-1] == {"to": ["e1"], "content": "新的待办：张三 会签\n「会签」等待您处理。"}


def test_sms_channel_down_gives_up_with_an_incident_and_keeps_the_in_app_row(ctx, clock):
    gone = servers.notify().start()
    gone.stop()  # nothing listens on this port any more: connection refused
    ctx = _with_sms(ctx, f"{gone.url}/sms")
    view = start(ctx, "countersign", rule="all", signers=["e1"])
    for wait in (0, 5, 10):  # back-off 5 s, then 10 s
        clock.advance(seconds=wait)
        assert run_due_jobs(ctx) == 2
    job = _job_for(ctx, "e1")
    assert (job.status, job.attempts) == ("failed", 3) and "ConnectError" in job.last_error
    [incident] = [i for i in list_incidents(ctx) if i.job_id == job.id]
    assert incident.kind == "notify" and incident.instance_id == view.id
    assert get_instance(ctx, view.id).status == "running"  # a channel outage does not stop the process
    assert kinds(ctx, E1) == ["assigned"]
