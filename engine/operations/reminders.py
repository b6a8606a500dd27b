"""催办 (urge current assignees, rate-limited) and 抄送 (CC: read-only grant, listed under 抄送我的)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import FieldError, RateLimited, ValidationFailed
from engine.inbox import cc_instances
from engine.instances import _view
from engine.models import AuditRecord, Grant, HumanTask
from engine.models import human_task as ht
from engine.notifications.service import notify, recipients_of
from engine.operations._common import load_instance, record, require_running
from engine.permissions import authorize, run_command
from engine.signing import touch
from engine.subject import Subject
from engine.urgency import urged_priority
from engine.views import InstanceView, TaskView


def urge(ctx: EngineContext, instance_id: str, subject: Subject, *, reason: str = "") -> list[TaskView]:
    """催办: remind the people of every open task; at most once per task per `urge_interval_minutes`.

    Urged tasks get `priority >= URGENT_PRIORITY` (shown and filtered as at least 紧急 in the inbox,
    engine/urgency.py) and the people an urgent notification.

    Returns:
        The tasks urged now.

    Raises:
        AccessDenied (only the applicant or an admin), Conflict (not running), RateLimited.
    """

    def command(session: Session) -> list[TaskView]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "urge", instance=loaded.instance)
        require_running(loaded.instance)
        now = ctx.clock.now()
        since = now - timedelta(minutes=ctx.settings.urge_interval_minutes)
        recent = set(session.scalars(select(AuditRecord.task_id).where(
            AuditRecord.instance_id == instance_id, AuditRecord.action == "task.urge", AuditRecord.at > since)))
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == ht.OPEN).order_by(HumanTask.seq)).all()
        due = [t for t in tasks if t.id not in recent]
        if not due:
            raise RateLimited(f"{ctx.settings.urge_interval_minutes} 分钟内已催办过 (already urged recently)",
                              instance_id=instance_id, retry_after_minutes=ctx.settings.urge_interval_minutes)
        for task in due:
            task.priority = urged_priority(task.priority)
            notify(ctx, session, "urged", recipients_of(task), instance=loaded.instance, task=task,
                   actor=subject.username, reason=reason, urgent=True)
            record(ctx, session, subject, "task.urge", instance=loaded.instance, task=task, reason=reason)
        # Two urges that both read "not urged recently" must not both pass: the instance's row_version
        # makes the later commit stale, and its retry then sees the first urge and is rate-limited.
        touch(session, loaded.instance, now)
        return [TaskView.of(t) for t in due]

    return run_command(ctx, command)


def cc(ctx: EngineContext, instance_id: str, subject: Subject, usernames: list[str], *,
       reason: str = "") -> list[str]:
    """抄送: give read-only access to the instance (a `cc` grant) and notify the readers.

    Returns:
        The usernames newly copied (already-copied ones are skipped).

    Raises:
        AccessDenied (applicant, people on its open tasks or participants, admins), ValidationFailed.
    """
    names = [u.strip() for u in dict.fromkeys(usernames) if u and u.strip()]
    if not names:
        raise ValidationFailed("请选择抄送人 (choose readers)", [FieldError("/usernames", "必填项 (required)")])

    def command(session: Session) -> list[str]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "cc", instance=loaded.instance)
        existing = set(session.scalars(select(Grant.grantee).where(
            Grant.instance_id == instance_id, Grant.kind == "cc", Grant.revoked_at.is_(None))))
        added = [n for n in names if n not in existing]
        now = ctx.clock.now()
        session.add_all([Grant(instance_id=instance_id, kind="cc", grantee=n, granted_by=subject.username,
                               created_at=now) for n in added])
        session.flush()
        notify(ctx, session, "cc", added, instance=loaded.instance, actor=subject.username, reason=reason)
        record(ctx, session, subject, "instance.cc", instance=loaded.instance, reason=reason, readers=added)
        return added

    return run_command(ctx, command)


def list_cc(ctx: EngineContext, subject: Subject, *, limit: int = 50, offset: int = 0) -> list[InstanceView]:
    """抄送我的: instances copied to the subject, newest first."""
    with ctx.db.unit_of_work() as session:
        rows = session.scalars(cc_instances(subject).limit(limit).offset(offset)).all()
        return [_view(session, i) for i in rows]
