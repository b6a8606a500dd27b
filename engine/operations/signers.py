"""加签 (before me / after me / into a running countersign) and 减签 (remove a signer who has not acted)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.models import HumanTask, Instance, Signer
from engine.models import human_task as ht
from engine.models import operations as op
from engine.notifications.service import notify
from engine.operations._common import (
    load_instance,
    load_task,
    record,
    require_not_delegated,
    require_open,
    restore,
)
from engine.operations.voting import settle
from engine.permissions import allows, authorize, run_command
from engine.signing import WAITING, clone_task, drop_row, open_signer, plan_for, signers_of, start_plan, touch
from engine.subject import Subject
from engine.views import TaskView

POSITIONS = ("before", "after", "countersign")


@dataclass(frozen=True)
class SignerView:
    id: str
    username: str
    kind: str
    position: int
    state: str
    outcome: str | None
    task_id: str | None
    added_by: str
    removable: bool = False  # 减签 is open to this subject now (what remove_signer would allow)


def _view(s: Signer, removable: bool = False) -> SignerView:
    return SignerView(s.id, s.username, s.kind, s.position, s.state, s.outcome, s.human_task_id, s.added_by,
                      removable)


def _not_acted(signer: Signer, instance: Instance) -> bool:
    return signer.state in (op.OPEN, op.PENDING) and instance.status == "running"


def _is_last(session: Session, signer: Signer) -> bool:
    """Whether the signer is the only one left in their sign plan (a plan without signers cannot decide)."""
    if signer.plan_id is None:
        return False
    other = session.scalar(select(Signer.id).where(Signer.plan_id == signer.plan_id, Signer.id != signer.id,
                                                   Signer.state.notin_((op.REMOVED, op.CANCELLED))).limit(1))
    return other is None


def removable(ctx: EngineContext, session: Session, subject: Subject, signer: Signer, instance: Instance) -> bool:
    """Whether `remove_signer` would accept this signer from the subject (authorization, not acted, not last)."""
    row = session.get(HumanTask, signer.human_task_id) if signer.human_task_id else None
    return _not_acted(signer, instance) and allows(
        ctx, session, subject, "remove_signer", task=row, instance=instance, owner=signer.added_by
    ) and not _is_last(session, signer)


def step_signers(session: Session, task: HumanTask) -> list[Signer]:
    """The signers of the task's step (votes and 加签 holds), in order."""
    plans = select(op.SignPlan.id).where(op.SignPlan.instance_id == task.instance_id,
                                         op.SignPlan.spiff_task_id == task.spiff_task_id)
    holds = select(HumanTask.id).where(HumanTask.instance_id == task.instance_id,
                                       HumanTask.spiff_task_id == task.spiff_task_id)
    return list(session.scalars(select(Signer).where(
        Signer.instance_id == task.instance_id,
        (Signer.plan_id.in_(plans)) | (Signer.waiting_task_id.in_(holds)))
        .order_by(Signer.created_at, Signer.position)).all())


def _add_before(session: Session, task: HumanTask, username: str, subject: Subject, now) -> HumanTask:
    row = clone_task(session, task, username, now)
    session.add(Signer(instance_id=task.instance_id, kind=op.BEFORE, username=username, human_task_id=row.id,
                       waiting_task_id=task.id, state=op.OPEN, added_by=subject.username, created_at=now))
    task.state = WAITING  # out of my inbox until they have acted
    return row


def _add_vote(session: Session, task: HumanTask, username: str, subject: Subject, now) -> list[HumanTask]:
    plan = plan_for(session, task)
    if plan is None:  # a plain step becomes "me, then them" (依次)
        _, rows = start_plan(session, task, "sequential", 1, 1, [task.assignee or subject.username, username],
                             now, added_by=subject.username)
        return [r for r in rows if r.id != task.id]
    signers = signers_of(session, plan)
    if any(s.username == username and s.state in (op.OPEN, op.PENDING) for s in signers):
        raise Conflict("该人员已在会签中 (already a signer)", username=username)
    mine = next((s for s in signers if s.human_task_id == task.id), None)
    position = (mine.position + 1) if mine else max(s.position for s in signers) + 1
    if plan.rule == "sequential":
        for s in signers:
            if s.position >= position:
                s.position += 1
    signer = Signer(instance_id=task.instance_id, plan_id=plan.id, username=username, position=position,
                    added_by=subject.username, created_at=now)
    session.add(signer)
    session.flush()
    return [] if plan.rule == "sequential" else [open_signer(session, signer, task, now)]


def add_signer(ctx: EngineContext, task_id: str, subject: Subject, username: str, *, position: str = "after",
               reason: str = "") -> list[TaskView]:
    """Add a signer to the subject's open task.

    Args:
        position: "before" (my task waits until they have acted; their opinion is recorded and the task
            returns to me), "after" (the step needs my approval and then theirs; on a countersign the same
            as "countersign", in sequential order right after me), "countersign" (another vote in the
            running countersign; its rule is re-evaluated over the new signer set).

    Returns:
        The tasks opened for the new signer (empty when they wait for their turn).

    Raises:
        AccessDenied, Conflict (task not open, already a signer, "countersign" on a plain step),
        ValidationFailed (bad position, yourself or the task's holder).
    """
    if position not in POSITIONS or not username:
        raise ValidationFailed("加签参数无效 (invalid signer)",
                               [FieldError("/position" if position not in POSITIONS else "/username", "无效")])
    if username == subject.username:
        raise ValidationFailed("不能给自己加签 (you cannot add yourself as a signer)",
                               [FieldError("/username", "不能是自己 (not yourself)")])

    def command(session: Session) -> list[TaskView]:
        loaded = load_task(session, task_id)
        task, now = loaded.task, ctx.clock.now()
        require_open(task, loaded.instance)
        authorize(ctx, session, subject, "add_signer", task=task, instance=loaded.instance)
        require_not_delegated(session, task, "add_signer")
        restore(ctx, loaded)  # the step must still exist in the workflow
        if position == "countersign" and plan_for(session, task) is None:
            raise Conflict("此步骤不是会签 (step is not a countersign)", task_id=task_id)
        if username == task.assignee:  # e.g. an admin adding the holder before or after themselves
            raise ValidationFailed("该人员正在办理此任务 (user already holds this task)",
                                   [FieldError("/username", "不能是办理人 (not the task's holder)")])
        rows = [_add_before(session, task, username, subject, now)] if position == "before" \
            else _add_vote(session, task, username, subject, now)
        touch(session, loaded.instance, now)
        session.flush()
        notify(ctx, session, "assigned", [username], instance=loaded.instance, task=task, actor=subject.username)
        record(ctx, session, subject, "task.add_signer", instance=loaded.instance, task=task, reason=reason,
               username=username, position=position)
        return [TaskView.of(r) for r in rows]

    return run_command(ctx, command)


def remove_signer(ctx: EngineContext, signer_id: str, subject: Subject, *, reason: str = "") -> list[TaskView]:
    """减签: remove a signer who has not acted. Allowed to whoever added them, and to admins.

    The plan's rule is re-evaluated over the remaining signers (this may decide the step).

    Returns:
        Tasks newly opened as a consequence (next sequential signer, or the following step).

    Raises:
        NotFound, AccessDenied, Conflict (already acted, or the last signer).
    """

    def command(session: Session) -> list[TaskView]:
        signer = session.get(Signer, signer_id)
        if signer is None:
            raise NotFound("会签人不存在 (signer not found)", signer_id=signer_id)
        row = session.get(HumanTask, signer.human_task_id) if signer.human_task_id else None
        loaded = load_instance(session, signer.instance_id)
        instance = loaded.instance
        authorize(ctx, session, subject, "remove_signer", task=row, instance=instance, owner=signer.added_by)
        if not _not_acted(signer, instance):
            raise Conflict("只能减去尚未处理的人 (signer has already acted)", signer_id=signer_id)
        if _is_last(session, signer):
            raise Conflict("至少保留一名会签人 (cannot remove the last signer)", signer_id=signer_id)
        now, created = ctx.clock.now(), []
        signer.state = op.REMOVED
        if row is not None and row.state == ht.OPEN:
            drop_row(session, row, now)
        if signer.kind == op.BEFORE:
            held = session.get(HumanTask, signer.waiting_task_id)
            if held is not None and held.state == WAITING:
                held.state = ht.OPEN
        else:
            plan = session.get(op.SignPlan, signer.plan_id)
            with_row = [s.human_task_id for s in signers_of(session, plan) if s.human_task_id]
            template = row or session.get(HumanTask, with_row[0])
            created = settle(ctx, session, plan, template, instance, loaded.definition, restore(ctx, loaded), now)
        touch(session, instance, now)
        session.flush()
        record(ctx, session, subject, "task.remove_signer", instance=instance, task=row, reason=reason,
               username=signer.username)
        return [TaskView.of(t) for t in created]

    return run_command(ctx, command)


def list_signers(ctx: EngineContext, task_id: str, subject: Subject) -> list[SignerView]:
    """The signers of the task's step (votes and 加签 holds), in order, each marked `removable` for the subject."""

    def command(session: Session) -> list[SignerView]:
        loaded = load_task(session, task_id)
        authorize(ctx, session, subject, "read", task=loaded.task, instance=loaded.instance)
        return [_view(s, removable(ctx, session, subject, s, loaded.instance))
                for s in step_signers(session, loaded.task)]

    return run_command(ctx, command)
