"""The one authorization decision every engine command goes through: deny by default, denials audited.

`authorize()` raises `AccessDenied` (a `PermissionDenied`). Because the command's transaction rolls back
on that error, the denial is written to the audit trail afterwards by `run_command()` in its own
transaction (action `access.denied`). The role -> action check is pluggable through
`ctx.extras["policy"]`, a callable `(subject, institution, obj, act) -> bool` (Casbin plugs in there;
`engine.open_engine` installs it). Without it every role-based decision is refused: fail closed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import PermissionDenied
from engine.models import Grant, HumanTask, Instance, Signer
from engine.models import human_task as ht
from engine.subject import Subject

log = logging.getLogger("engine.authz")
T = TypeVar("T")
Policy = Callable[[Subject, str, str, str], bool]

TASK_ACTIONS = frozenset({"claim", "unclaim", "complete", "add_signer", "transfer", "delegate", "send_back"})
READ_ACTIONS = frozenset({"read", "comment"})
OWNER_ACTIONS = frozenset({"withdraw", "remove_signer", "read_attachment"})
INITIATOR_ACTIONS = frozenset({"urge"})
ADMIN_ACTIONS = frozenset({"admin.reassign", "admin.approve", "admin.skip", "admin.reset", "admin.bulk_reassign"})


class AccessDenied(PermissionDenied):
    """A refused authorization; carries what `run_command` needs to audit it."""

    def __init__(self, action: str, actor: str, task_id: str | None, instance_id: str | None) -> None:
        super().__init__(f"无权执行此操作 (not allowed: {action})", action=action,
                         task_id=task_id, instance_id=instance_id)
        self.actor = actor


def default_policy(subject: Subject, institution: str, obj: str, act: str) -> bool:
    """No policy installed: refuse (a context built without `open_engine` must not grant anything)."""
    log.error("no authorization policy installed; refusing", extra={"object": obj, "action": act})
    return False


def _policy(ctx: EngineContext) -> Policy:
    return ctx.extras.get("policy") or default_policy


def policy_allows(ctx: EngineContext, subject: Subject, institution: str, obj: str, act: str) -> bool:
    """The installed policy's plain decision (no audit): e.g. ``pii``/``read`` for showing a field in full."""
    return bool(_policy(ctx)(subject, institution, obj, act))


def is_admin(ctx: EngineContext, subject: Subject, institution: str) -> bool:
    """Whether the policy lets the subject administer instances in the institution (`instance`, `admin`)."""
    return _policy(ctx)(subject, institution, "instance", "admin")


def allowed_somewhere(ctx: EngineContext, subject: Subject, obj: str, act: str) -> bool:
    """Whether the policy allows `act` on `obj` in any institution where the subject holds a role.

    For platform-wide objects that belong to no one institution (incidents, webhooks, message log, designer).
    """
    policy = _policy(ctx)
    return any(policy(subject, institution, obj, act) for institution in subject.roles)


def require_allowed_somewhere(ctx: EngineContext, subject: Subject, obj: str, act: str) -> None:
    """`allowed_somewhere` or refuse: `AccessDenied` (action ``<obj>.<act>``), audited before it is raised.

    Raises:
        AccessDenied: the policy grants the subject `act` on `obj` nowhere.
    """
    if allowed_somewhere(ctx, subject, obj, act):
        return
    log.info("denied", extra={"action": f"{obj}.{act}", "actor": subject.username})
    denied = AccessDenied(f"{obj}.{act}", subject.username, None, None)
    record_denial(ctx, denied)
    raise denied


def delegation(session: Session, task: HumanTask) -> Grant | None:
    """The active 委派 grant on a task, if any."""
    return session.scalar(select(Grant).where(Grant.task_id == task.id, Grant.kind == "delegate",
                                              Grant.revoked_at.is_(None)))


def may_act(ctx: EngineContext, subject: Subject, task: HumanTask, action: str = "complete") -> bool:
    """Assignee, named candidate, or candidate-role holder the policy allows; open tasks only."""
    if task.state != ht.OPEN:
        return False
    if task.assignee:
        return task.assignee == subject.username
    if subject.username in (task.candidate_users or []):
        return True
    return subject.has_any_role(task.institution, task.candidate_roles or []) and \
        _policy(ctx)(subject, task.institution, f"task:{task.process_key}:{task.node_id}", action)


def _participant(session: Session, username: str, instance_id: str) -> bool:
    acted = exists().where(HumanTask.instance_id == instance_id, HumanTask.completed_by == username)
    signer = exists().where(Signer.instance_id == instance_id, Signer.username == username)
    granted = exists().where(Grant.instance_id == instance_id, Grant.grantee == username,
                             Grant.revoked_at.is_(None))
    return bool(session.scalar(select(or_(acted, signer, granted))))


def _may_read(ctx: EngineContext, session: Session, subject: Subject, instance: Instance,
              task: HumanTask | None) -> bool:
    if instance.initiator == subject.username or _participant(session, subject.username, instance.id):
        return True
    if task is not None:
        return may_act(ctx, subject, task, "read") or subject.username in (task.completed_by, task.assignee)
    open_tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.state == ht.OPEN)).all()
    return any(may_act(ctx, subject, t, "read") for t in open_tasks)


def _decide(ctx: EngineContext, session: Session, subject: Subject, action: str, task: HumanTask | None,
            instance: Instance, owner: str | None) -> bool:
    if is_admin(ctx, subject, task.institution if task else instance.institution):
        return True  # admins may do everything, and overrides are marked as such by the commands
    if action in TASK_ACTIONS:
        return task is not None and may_act(ctx, subject, task, action)
    if action in READ_ACTIONS:
        return _may_read(ctx, session, subject, instance, task)
    if action in OWNER_ACTIONS:
        return owner is not None and owner == subject.username
    if action in INITIATOR_ACTIONS:
        return instance.initiator == subject.username
    if action == "cc":
        return instance.initiator == subject.username or _may_read(ctx, session, subject, instance, None) \
            and not _cc_only(session, subject, instance)
    return False  # unknown actions and admin actions for non-admins


def _cc_only(session: Session, subject: Subject, instance: Instance) -> bool:
    """A reader whose only link to the instance is a CC grant (CC readers may not CC others)."""
    acted = session.scalar(select(exists().where(HumanTask.instance_id == instance.id,
                                                 HumanTask.completed_by == subject.username)))
    return not acted and bool(session.scalar(select(exists().where(
        Grant.instance_id == instance.id, Grant.grantee == subject.username, Grant.kind == "cc"))))


def authorize(ctx: EngineContext, session: Session, subject: Subject, action: str, task: HumanTask | None = None,
              instance: Instance | None = None, *, owner: str | None = None) -> None:
    """Allow or refuse one action of a subject on a task and/or instance.

    Args:
        ctx: the engine context (extras["policy"]).
        session: the command's session.
        subject: who acts.
        action: e.g. "complete", "read", "urge", "cc", "withdraw", "admin.reassign".
        task: the human task acted on, if any.
        instance: the instance acted on (loaded from the task when omitted).
        owner: for owner actions, the user who owns the object (completed the task, added the signer).

    Raises:
        AccessDenied: the action is not allowed (audited by `run_command`).
    """
    if not allows(ctx, session, subject, action, task, instance, owner=owner):
        log.info("denied", extra={"action": action, "actor": subject.username})
        instance_id = instance.id if instance is not None else task.instance_id if task is not None else None
        raise AccessDenied(action, subject.username, task.id if task else None, instance_id)


def allows(ctx: EngineContext, session: Session, subject: Subject, action: str, task: HumanTask | None = None,
           instance: Instance | None = None, *, owner: str | None = None) -> bool:
    """The decision `authorize` enforces, as a bool: no exception and no audit record.

    For offering only what a user may do (`task_actions`); commands call `authorize`.
    """
    if instance is None and task is not None:
        instance = session.get(Instance, task.instance_id)
    return instance is not None and _decide(ctx, session, subject, action, task, instance, owner)


def record_denial(ctx: EngineContext, denied: AccessDenied) -> None:
    """Write `access.denied` to the audit trail in its own transaction (the command's rolled back)."""
    detail: dict[str, Any] = denied.detail
    with ctx.db.unit_of_work() as session:
        audit.append(session, actor=denied.actor, action="access.denied", at=ctx.clock.now(),
                     instance_id=detail.get("instance_id"), task_id=detail.get("task_id"),
                     details={"action": detail.get("action")})
    denied.audited = True


def run_command(ctx: EngineContext, command: Callable[[Session], T]) -> T:
    """`ctx.db.run` with denial auditing: every engine command that authorizes runs through here."""
    try:
        return ctx.db.run(command, retries=ctx.settings.command_retries)
    except AccessDenied as denied:
        record_denial(ctx, denied)
        raise
