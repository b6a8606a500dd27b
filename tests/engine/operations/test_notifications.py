"""Notification centre: in-app rows and unread counts, Jinja2 templates, channel jobs, quiet hours, retries."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine import list_notifications, mark_read, notify_overdue, send_back, unread_count, urge
from engine.jobs.queue import handler_for
from engine.models import Job
from engine.notifications.channels import DeliveryFailed, after_quiet_hours
from engine.notifications.templates import render
from tests.engine.operations.helpers import ALICE, EXPERTS, start, task_of

E1 = EXPERTS["e1"]


def _with_channels(ctx):
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={
        "notify_channels": {"dingtalk": "https://oapi.dingtalk.example/robot/send?access_token=t",
                            "wecom": "https://qyapi.weixin.example/cgi-bin/webhook/send?key=k"}}))


def _utc(at):
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _jobs(ctx):
    with ctx.db.unit_of_work() as session:
        return session.scalars(select(Job).where(Job.kind == "notify").order_by(Job.created_at)).all()


def test_assigned_urged_sent_back_and_unread_counts(ctx):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    assert unread_count(ctx, E1) == 1
    [note] = list_notifications(ctx, E1)
    assert note["kind"] == "assigned" and "会签" in note["title"]
    urge(ctx, view.id, ALICE, reason="今天要用")
    urged = [n for n in list_notifications(ctx, E1) if n["kind"] == "urged"]
    assert len(urged) == 1 and urged[0]["urgent"] and unread_count(ctx, E1) == 2
    assert "今天要用" in urged[0]["body"]
    assert mark_read(ctx, E1) == 2 and unread_count(ctx, E1) == 0
    send_back(ctx, task_of(ctx, E1).id, E1, target="applicant", reason="请补充")
    assert "sent_back" in {n["kind"] for n in list_notifications(ctx, ALICE, unread_only=True)}


def test_completed_and_overdue(ctx, clock):
    view = start(ctx, "approval")
    clock.advance(days=3)
    with ctx.db.unit_of_work() as session:
        assert notify_overdue(ctx, session, clock.now()) == 1
        assert notify_overdue(ctx, session, clock.now()) == 0  # once per task
    assert view.id and list_notifications(ctx, ALICE)[0]["kind"] == "overdue"  # role pool -> applicant


def test_channel_jobs_are_deferred_in_quiet_hours_unless_urgent(ctx, clock):
    ctx = _with_channels(ctx)
    clock.advance(hours=7)  # 2026-01-05 23:00 Asia/Shanghai (15:00 UTC)
    view = start(ctx, "countersign", rule="all", signers=["e1"])
    jobs = _jobs(ctx)
    assert {j.payload["channel"] for j in jobs} == {"dingtalk", "wecom"}
    assert all(_utc(j.run_at) == datetime(2026, 1, 5, 23, 0) for j in jobs)  # 07:00 local
    urge(ctx, view.id, ALICE)
    urged = [j for j in _jobs(ctx) if j.payload["kind"] == "urged"]
    assert urged and all(_utc(j.run_at) == datetime(2026, 1, 5, 15, 0) for j in urged)


def test_delivery_retries_when_a_channel_is_down(ctx):
    ctx = _with_channels(ctx)
    start(ctx, "countersign", rule="all", signers=["e1"])
    job = _jobs(ctx)[0]
    calls = []
    ctx.extras["http_post"] = lambda url, body: calls.append((url, body)) or 503
    with pytest.raises(DeliveryFailed):
        handler_for("notify")(ctx, job)
    ctx.extras["http_post"] = lambda url, body: calls.append((url, body)) or 200
    handler_for("notify")(ctx, job)
    assert calls[-1][1]["msgtype"] == "text" and "会签" in calls[-1][1]["text"]["content"]


def test_quiet_hours_window_and_templates():
    at = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 11:00 local: not quiet
    assert after_quiet_hours(at, "22:00-07:00", "Asia/Shanghai") == at
    late = datetime(2026, 1, 5, 20, 30, tzinfo=UTC)  # 04:30 local next day
    assert after_quiet_hours(late, "22:00-07:00", "Asia/Shanghai") == datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    title, body = render("sent_back", {"title": "张三 请假", "step": "科室审核", "actor": "王主任", "reason": "缺材料"})
    assert title == "退回：张三 请假" and "缺材料" in body
    assert render("assigned", {"title": "{{ 7*7 }}"})[0] == "新的待办：{{ 7*7 }}"  # data is not a template
