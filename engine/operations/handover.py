"""转办 (transfer: ownership moves) and 委派 (delegate: they act, then the task returns to me)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, ValidationFailed
from engine.models import Definition, Grant, HumanTask, Signer, TaskCandidate
from engine.notifications.service import notify
from engine.operations._common import load_task, record, require_not_delegated, require_open
from engine.permissions import authorize, run_command
from engine.signing import ACTIVE, touch
from engine.subject import Subject
from engine.views import TaskView


def is_eligible(ctx: EngineContext, username: str, task: HumanTask, definition: Definition) -> bool:
    """Whether a user may own the task: a named candidate of the step, or holds one of its roles.

    Roles of other users come from `ctx.extras["roles_of"]` (username, institution) -> roles, which the
    identity service provides; without it only named candidates are eligible.
    """
    ext = definition.steps.get(task.node_id, {}).get("extensions", {})
    users = set(task.candidate_users or []) | set(ext.get("candidateUsers", []))
    if username in users:
        return True
    roles = set(task.candidate_roles or []) | set(ext.get("candidateGroups", []))
    if ext.get("laneRole"):
        roles.add(ext["laneRole"])
    roles_of = ctx.extras.get("roles_of")
    return bool(roles_of and roles & set(roles_of(username, task.institution)))


def require_no_vote(session: Session, signer: Signer, username: str) -> None:
    """Refuse to move a vote to someone who already holds one in the same sign plan.

    Otherwise one person could cast two of a "2 of 3". Acted votes count too; removed and cancelled
    slots do not.

    Raises:
        Conflict: `username` already has a slot in the plan.
    """
    if signer.plan_id is None:
        return
    held = session.scalar(select(Signer.id).where(Signer.plan_id == signer.plan_id, Signer.id != signer.id,
                                                  Signer.username == username, Signer.state.in_(ACTIVE)).limit(1))
    if held is not None:
        raise Conflict("该人员已在此会签中，不能再接一票 (user already holds a vote in this countersign)",
                       username=username, task_id=signer.human_task_id)


def reassign(session: Session, task: HumanTask, username: str) -> None:
    """Make `username` the assignee (also of the signer slot the row belongs to).

    Raises:
        Conflict: the row is a countersign vote and `username` already holds one in that plan.
    """
    signer = session.scalar(select(Signer).where(Signer.human_task_id == task.id))
    if signer is not None:
        require_no_vote(session, signer, username)
    session.execute(TaskCandidate.__table__.delete().where(TaskCandidate.task_id == task.id,
                                                           TaskCandidate.kind == "user"))
    task.assignee = username
    task.candidate_users = [username]
    session.add(TaskCandidate(task_id=task.id, kind="user", value=username, institution=task.institution))
    if signer is not None:
        signer.username = username
    session.flush()


def _check_target(username: str, subject: Subject) -> None:
    if not username or username == subject.username:
        raise ValidationFailed("请选择其他人员 (choose another user)", [FieldError("/username", "无效")])


def transfer_task(ctx: EngineContext, task_id: str, subject: Subject, username: str, *,
                  reason: str = "") -> TaskView:
    """转办: the task (or my countersign vote) now belongs to another eligible user; I am out of it.

    Raises:
        AccessDenied, Conflict (not open / delegated / target already holds a vote in the countersign),
        ValidationFailed (target not eligible).
    """
    _check_target(username, subject)

    def command(session: Session) -> TaskView:
        loaded = load_task(session, task_id)
        task = loaded.task
        require_open(task, loaded.instance)
        authorize(ctx, session, subject, "transfer", task=task, instance=loaded.instance)
        require_not_delegated(session, task, "transfer")
        if not is_eligible(ctx, username, task, loaded.definition):
            raise ValidationFailed("该人员无权办理此步骤 (user is not eligible for this step)",
                                   [FieldError("/username", "不符合办理条件")])
        reassign(session, task, username)
        touch(session, loaded.instance, ctx.clock.now())
        notify(ctx, session, "transferred", [username], instance=loaded.instance, task=task, actor=subject.username)
        record(ctx, session, subject, "task.transfer", instance=loaded.instance, task=task, reason=reason,
               to=username)
        return TaskView.of(task)

    return run_command(ctx, command)


def delegate_task(ctx: EngineContext, task_id: str, subject: Subject, username: str, *,
                  reason: str = "") -> TaskView:
    """委派: the delegate acts on the task (fills the form); then it returns to me to finish.

    The delegate's submission is prefilled for me and kept in history as a `delegate_done` row.

    Raises:
        AccessDenied, Conflict (not open / already delegated), ValidationFailed.
    """
    _check_target(username, subject)

    def command(session: Session) -> TaskView:
        loaded = load_task(session, task_id)
        task, now = loaded.task, ctx.clock.now()
        require_open(task, loaded.instance)
        authorize(ctx, session, subject, "delegate", task=task, instance=loaded.instance)
        require_not_delegated(session, task, "delegate")
        owner = task.assignee or subject.username
        session.add(Grant(instance_id=task.instance_id, task_id=task.id, kind="delegate", grantee=username,
                          granted_by=owner, created_at=now))
        task.assignee = username
        session.add(TaskCandidate(task_id=task.id, kind="user", value=username, institution=task.institution))
        touch(session, loaded.instance, now)
        session.flush()
        notify(ctx, session, "delegated", [username], instance=loaded.instance, task=task, actor=subject.username)
        record(ctx, session, subject, "task.delegate", instance=loaded.instance, task=task, reason=reason,
               to=username)
        return TaskView.of(task)

    return run_command(ctx, command)
