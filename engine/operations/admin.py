"""Admin overrides (reassign, approve on behalf, skip, reset) and bulk operations.

Admin only (Casbin `instance, admin` in the task's institution), reason mandatory, and every one is
audited with `override: true`, so the instance timeline shows it as an override.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import pii
from engine.context import EngineContext
from engine.errors import Conflict, EngineError, FieldError, ValidationFailed
from engine.forms import StepPermissions, accept_submission
from engine.human_tasks import close_task
from engine.instances import apply_workflow
from engine.models import HumanTask, Instance, Signer, SignPlan
from engine.models import human_task as ht
from engine.models import operations as op
from engine.notifications.service import notify
from engine.operations._common import load_instance, load_task, record, require_open, require_reason, restore
from engine.operations.handover import reassign, require_no_vote
from engine.operations.sendback import _choose, rewind
from engine.operations.voting import finish_plan
from engine.permissions import AccessDenied, authorize, is_admin, run_command
from engine.signing import plan_for, touch
from engine.subject import Subject
from engine.tasks import _form, complete_task
from engine.views import TaskView


@dataclass(frozen=True)
class BulkResult:
    task_id: str
    ok: bool
    error: str = ""


def admin_reassign(ctx: EngineContext, task_id: str, subject: Subject, username: str, *,
                   reason: str) -> TaskView:
    """Override: give an open task (or countersign vote) to any user, without the eligibility check.

    Raises:
        AccessDenied, ValidationFailed (no reason), Conflict (not open; the target already holds a vote
        in the same countersign).
    """
    reason = require_reason(reason)

    def command(session: Session) -> TaskView:
        loaded = load_task(session, task_id)
        authorize(ctx, session, subject, "admin.reassign", task=loaded.task, instance=loaded.instance)
        require_open(loaded.task, loaded.instance)
        previous = loaded.task.assignee
        reassign(session, loaded.task, username)
        touch(session, loaded.instance, ctx.clock.now())
        notify(ctx, session, "transferred", [username], instance=loaded.instance, task=loaded.task,
               actor=subject.username)
        record(ctx, session, subject, "admin.reassign", instance=loaded.instance, task=loaded.task, reason=reason,
               override=True, previous=previous, to=username)
        return TaskView.of(loaded.task)

    return run_command(ctx, command)


def _decide_step(ctx: EngineContext, session: Session, loaded: Any, subject: Subject, outcome: str,
                 data: dict[str, Any]) -> list[HumanTask]:
    task, now = loaded.task, ctx.clock.now()
    workflow = restore(ctx, loaded)
    plan = plan_for(session, task)
    close_task(session, task, actor=subject.username, outcome=outcome,
               data=pii.seal_data(ctx, loaded.definition, data), now=now)
    if plan is not None:  # the remaining votes are cancelled; the step gets the admin's outcome
        return finish_plan(ctx, session, plan, outcome, loaded.instance, loaded.definition, workflow, now)
    ctx.runtime.complete_step(workflow, task.spiff_task_id,
                              {**data, "outcome": outcome, f"{task.node_id}_outcome": outcome})
    return apply_workflow(ctx, session, loaded.instance, loaded.definition, workflow)


def admin_approve(ctx: EngineContext, task_id: str, subject: Subject, *, reason: str, outcome: str = "approve",
                  data: dict[str, Any] | None = None) -> list[TaskView]:
    """Override: decide the step on behalf of its people (a countersign is decided as a whole).

    Returns:
        The tasks opened by the following steps.
    """
    reason = require_reason(reason)

    def command(session: Session) -> list[TaskView]:
        loaded = load_task(session, task_id)
        authorize(ctx, session, subject, "admin.approve", task=loaded.task, instance=loaded.instance)
        require_open(loaded.task, loaded.instance)
        ext = loaded.definition.steps.get(loaded.task.node_id, {}).get("extensions", {})
        if outcome not in (ext.get("outcomes") or ["approve", "reject"]):
            raise ValidationFailed("处理结果无效 (invalid outcome)", [FieldError("/outcome", outcome, "enum")])
        form = _form(loaded.definition, loaded.task.form_key)
        perms = StepPermissions.from_step(loaded.task.node_id, ext, form)
        current = restore(ctx, loaded).get_task_from_id(UUID(loaded.task.spiff_task_id)).data
        submitted = pii.drop_masked_echo(dict(data or {}), current, pii.fields_of(ctx, loaded.definition),
                                         hidden=perms.hidden)
        accepted = accept_submission(form, perms, current, submitted)
        created = _decide_step(ctx, session, loaded, subject, outcome, accepted)
        record(ctx, session, subject, "admin.approve", instance=loaded.instance, task=loaded.task, reason=reason,
               override=True, outcome=outcome, node_id=loaded.task.node_id)
        return [TaskView.of(t) for t in created]

    return run_command(ctx, command)


def admin_skip(ctx: EngineContext, task_id: str, subject: Subject, *, reason: str) -> list[TaskView]:
    """Override: move past the step without a decision (outcome "skipped"; gateways take their default)."""
    reason = require_reason(reason)

    def command(session: Session) -> list[TaskView]:
        loaded = load_task(session, task_id)
        authorize(ctx, session, subject, "admin.skip", task=loaded.task, instance=loaded.instance)
        require_open(loaded.task, loaded.instance)
        created = _decide_step(ctx, session, loaded, subject, "skipped", {})
        record(ctx, session, subject, "admin.skip", instance=loaded.instance, task=loaded.task, reason=reason,
               override=True, node_id=loaded.task.node_id)
        return [TaskView.of(t) for t in created]

    return run_command(ctx, command)


def admin_reset(ctx: EngineContext, instance_id: str, subject: Subject, node_id: str, *,
                reason: str) -> list[TaskView]:
    """Override: rewind the instance to a completed step on the path taken (like 退回, by an admin)."""
    reason = require_reason(reason)

    def command(session: Session) -> list[TaskView]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "admin.reset", instance=loaded.instance)
        open_rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                            HumanTask.state == ht.OPEN)).all()
        if loaded.instance.status != "running" or not open_rows:
            raise Conflict("流程不在进行中 (instance is not running)", instance_id=instance_id)
        workflow = restore(ctx, loaded)
        for row in open_rows:
            try:
                target, actor = _choose(session, loaded, workflow, row.spiff_task_id, node_id)
            except Conflict:
                continue
            created, cancelled = rewind(ctx, session, loaded, workflow, row.spiff_task_id, target, actor,
                                        {"reset_by": subject.username})
            record(ctx, session, subject, "admin.reset", instance=loaded.instance, reason=reason, override=True,
                   node_id=node_id, cancelled=cancelled)
            return [TaskView.of(t) for t in created]
        raise Conflict("目标步骤不在已走过的路径上 (target step is not on the path taken)", target=node_id)

    return run_command(ctx, command)


def bulk_reassign(ctx: EngineContext, subject: Subject, from_user: str, to_user: str, *,
                  reason: str) -> list[TaskView]:
    """Reassign every open task and waiting countersign slot of a user (e.g. on leave), in one transaction.

    Only tasks and slots of instances in institutions where the subject is an admin are moved; others
    are left untouched. Each move is audited as an `admin.reassign` override.

    Raises:
        AccessDenied (admin nowhere), ValidationFailed, Conflict (`to_user` already holds a vote in a
        countersign a moved slot belongs to; nothing is moved then).
    """
    reason = require_reason(reason)
    if not to_user or to_user == from_user:
        raise ValidationFailed("请选择接手人 (choose who takes over)", [FieldError("/to_user", "无效")])

    def command(session: Session) -> list[TaskView]:
        domain = [institution for institution in subject.roles if is_admin(ctx, subject, institution)]
        if not domain:
            raise AccessDenied("admin.bulk_reassign", subject.username, None, None)
        rows = session.scalars(select(HumanTask).where(HumanTask.assignee == from_user,
                                                       HumanTask.state.in_([ht.OPEN, ht.WAITING]),
                                                       HumanTask.institution.in_(domain))
                               .order_by(HumanTask.created_at, HumanTask.id)).all()
        moved = []
        for row in rows:
            loaded = load_task(session, row.id)
            reassign(session, row, to_user)
            touch(session, loaded.instance, ctx.clock.now())
            record(ctx, session, subject, "admin.reassign", instance=loaded.instance, task=row, reason=reason,
                   override=True, previous=from_user, to=to_user, bulk=True)
            moved.append(row)
        _move_pending_slots(ctx, session, subject, domain, from_user, to_user, reason)
        return [TaskView.of(r) for r in moved]

    return run_command(ctx, command)


def _move_pending_slots(ctx: EngineContext, session: Session, subject: Subject, domain: list[str],
                        from_user: str, to_user: str, reason: str) -> None:
    """Sequential countersign slots not yet asked (no task row yet) follow the user's open tasks."""
    slots = session.execute(select(Signer, Instance, SignPlan)
                            .join(Instance, Instance.id == Signer.instance_id)
                            .join(SignPlan, SignPlan.id == Signer.plan_id)
                            .where(Signer.username == from_user, Signer.state == op.PENDING,
                                   Instance.institution.in_(domain))
                            .order_by(Signer.created_at, Signer.id)).all()
    for signer, instance, plan in slots:
        require_no_vote(session, signer, to_user)
        signer.username = to_user
        touch(session, instance, ctx.clock.now())
        record(ctx, session, subject, "admin.reassign", instance=instance, reason=reason, override=True,
               previous=from_user, to=to_user, bulk=True, signer_id=signer.id, node_id=plan.node_id)


def _bulk_allowed(ctx: EngineContext, task_id: str) -> bool:
    with ctx.db.unit_of_work() as session:
        loaded = load_task(session, task_id)
        ext = loaded.definition.steps.get(loaded.task.node_id, {}).get("extensions", {})
        form = _form(loaded.definition, loaded.task.form_key)
        return str(ext.get("bulkApprove", "")).lower() == "true" or bool(form and form.ui.get("bulkApprove"))


def bulk_approve(ctx: EngineContext, task_ids: list[str], subject: Subject, *, reason: str = "") -> list[BulkResult]:
    """Approve several of the subject's tasks, each in its own transaction (one failure stops no other).

    Only steps marked `hospital:bulkApprove="true"` (or form UI `"bulkApprove": true`) qualify, and
    the form must validate with no new input.
    """
    results = []
    for task_id in dict.fromkeys(task_ids):
        try:
            if not _bulk_allowed(ctx, task_id):
                raise Conflict("此步骤不允许批量审批 (step does not allow bulk approval)")
            complete_task(ctx, task_id, subject, outcome="approve", data={}, reason=reason or "批量同意")
            results.append(BulkResult(task_id, True))
        except EngineError as exc:
            results.append(BulkResult(task_id, False, f"{type(exc).__name__}: {exc.message}"))
    return results
