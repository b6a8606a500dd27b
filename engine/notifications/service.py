"""Create notifications inside a command's transaction and read them back (the notification centre)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.db import defer
from engine.jobs.queue import enqueue
from engine.models import HumanTask, Instance, Notification
from engine.notifications.channels import KNOWN_CHANNELS, after_quiet_hours
from engine.notifications.templates import render
from engine.subject import Subject

URGENT_KINDS = frozenset({"urged", "overdue", "sent_back"})
_INSERT = Notification.__table__.insert()


def recipients_of(task: HumanTask) -> list[str]:
    """Known people for a task: the assignee, else the named candidates (role pools see the inbox)."""
    return [task.assignee] if task.assignee else list(task.candidate_users or [])


def notify(ctx: EngineContext, session: Session, kind: str, recipients: list[str], *, instance: Instance,
           task: HumanTask | None = None, actor: str = "", reason: str = "", urgent: bool | None = None,
           extra: dict[str, Any] | None = None) -> int:
    """Add in-app notifications and queue one `notify` job per configured HTTP channel.

    Non-urgent channel messages are deferred past quiet hours; in-app rows appear at once.

    Returns:
        How many people were notified in-app (rows written now, committed with the caller's transaction).
    """
    people = [r for r in dict.fromkeys(recipients) if r and r != actor]
    if not people:
        return 0
    urgent = kind in URGENT_KINDS if urgent is None else urgent
    values = {"title": instance.title, "step": task.name if task else "", "actor": actor, "reason": reason,
              "due_at": task.due_at.strftime("%Y-%m-%d %H:%M") if task and task.due_at else None,
              **(extra or {})}
    title, body = render(kind, values)
    now = ctx.clock.now()
    session.flush()  # pending changes first, as when these rows went out in an ORM flush
    # A Core INSERT: every step notifies, and an ORM add + flush costs three times as much. Nothing reads
    # the rows back in this transaction, so it is deferred to the commit (one round trip with it).
    for r in people:
        defer(session, _INSERT, {"recipient": r, "kind": kind, "title": title, "body": body, "urgent": urgent,
                                 "instance_id": instance.id, "task_id": task.id if task else None,
                                 "created_at": now})
    run_at = now if urgent else after_quiet_hours(now, ctx.settings.quiet_hours, ctx.settings.timezone)
    for channel in sorted(set(ctx.settings.notify_channels) & set(KNOWN_CHANNELS)):
        enqueue(session, "notify", {"channel": channel, "kind": kind, "title": title, "body": body,
                                    "recipients": people}, run_at=run_at, instance_id=instance.id,
                max_attempts=ctx.settings.notify_max_attempts)
    return len(people)


def notify_assigned(ctx: EngineContext, session: Session, instance: Instance, tasks: list[HumanTask]) -> None:
    for task in tasks:
        notify(ctx, session, "assigned", recipients_of(task), instance=instance, task=task)


def notify_overdue(ctx: EngineContext, session: Session, now: datetime) -> int:
    """Notify the people of open tasks past their due time, once per task. Returns how many tasks."""
    notified = select(Notification.task_id).where(Notification.kind == "overdue")
    tasks = session.scalars(select(HumanTask).where(HumanTask.state == "open", HumanTask.due_at < now,
                                                    HumanTask.id.not_in(notified))).all()
    for task in tasks:
        instance = session.get(Instance, task.instance_id)
        notify(ctx, session, "overdue", recipients_of(task) or [instance.initiator], instance=instance, task=task)
    return len(tasks)


def list_notifications(ctx: EngineContext, subject: Subject, *, unread_only: bool = False, limit: int = 50,
                       offset: int = 0) -> list[dict[str, Any]]:
    """The subject's notifications, newest first."""
    query = select(Notification).where(Notification.recipient == subject.username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
    with ctx.db.unit_of_work() as session:
        return [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "urgent": n.urgent,
                 "instance_id": n.instance_id, "task_id": n.task_id, "created_at": n.created_at,
                 "read_at": n.read_at} for n in session.scalars(query).all()]


def unread_count(ctx: EngineContext, subject: Subject) -> int:
    """How many of the subject's notifications are unread (the badge)."""
    return ctx.db.read(lambda session: int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient == subject.username, Notification.read_at.is_(None))) or 0))


def unread_counts(ctx: EngineContext, subject: Subject) -> dict[str, int]:
    """The subject's unread notifications per kind (e.g. {"assigned": 2, "urged": 1}); kinds with none left out."""
    query = select(Notification.kind, func.count()).where(
        Notification.recipient == subject.username, Notification.read_at.is_(None)).group_by(Notification.kind)
    return ctx.db.read(lambda session: {kind: int(n) for kind, n in session.execute(query)})


def mark_read(ctx: EngineContext, subject: Subject, ids: list[str] | None = None) -> int:
    """Mark the subject's notifications read (all of them when `ids` is None). Returns how many."""
    statement = update(Notification).where(Notification.recipient == subject.username,
                                           Notification.read_at.is_(None))
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    with ctx.db.unit_of_work() as session:
        return session.execute(statement.values(read_at=ctx.clock.now())).rowcount or 0
