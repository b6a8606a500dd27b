"""Helpers shared by the operation commands: loading, restoring, auditing."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.models import Definition, Grant, HumanTask, Instance, Signer
from engine.models import human_task as ht
from engine.models import instance as inst
from engine.models import operations as op
from engine.permissions import delegation
from engine.subject import Subject


class Loaded(NamedTuple):
    task: HumanTask | None
    instance: Instance
    definition: Definition


# Built once: these run on every command (statement construction is a visible cost per step).
_TASK = (select(HumanTask, Instance, Definition)
         .join(Instance, Instance.id == HumanTask.instance_id)
         .join(Definition, Definition.id == Instance.definition_id)
         .where(HumanTask.id == bindparam("task_id")))
# Completing a task must also know its active delegation and its open signer row (votes, 加签 holds).
_TASK_LINKS = (_TASK.add_columns(Grant, Signer)
               .outerjoin(Grant, and_(Grant.task_id == HumanTask.id, Grant.kind == "delegate",
                                      Grant.revoked_at.is_(None)))
               .outerjoin(Signer, and_(Signer.human_task_id == HumanTask.id, Signer.state == op.OPEN))
               .limit(1))
_INSTANCE = (select(Instance, Definition).join(Definition, Definition.id == Instance.definition_id)
             .where(Instance.id == bindparam("instance_id")))


def load_task(session: Session, task_id: str) -> Loaded:
    """The task with its instance and definition, read in ONE statement.

    Under READ COMMITTED two separate reads may straddle another command's commit: the task read
    before it, the instance (and its row_version) after it. The optimistic lock would then pass on
    stale task data (two claimers both winning). One joined SELECT sees a single snapshot.
    """
    return Loaded(*_task_row(session, _TASK, task_id))


def load_task_links(session: Session, task_id: str) -> tuple[Loaded, Grant | None, Signer | None]:
    """`load_task` plus the task's active delegation grant and open signer row, in the same statement.

    Commands that change either also bump the instance's row_version, so reading them in the task's
    snapshot keeps the optimistic lock meaningful.
    """
    task, instance, definition, grant, signer = _task_row(session, _TASK_LINKS, task_id)
    return Loaded(task, instance, definition), grant, signer


def _task_row(session: Session, statement: Any, task_id: str) -> Any:
    row = session.execute(statement, {"task_id": task_id}).first()
    if row is None:
        raise NotFound("任务不存在 (task not found)", task_id=task_id)
    return row


def find_instance(session: Session, instance_id: str) -> tuple[Instance, Definition] | None:
    """An instance with its definition in one statement, or None."""
    row = session.execute(_INSTANCE, {"instance_id": instance_id}).first()
    return None if row is None else (row[0], row[1])


def load_instance(session: Session, instance_id: str) -> Loaded:
    found = find_instance(session, instance_id)
    if found is None:
        raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
    return Loaded(None, *found)


def require_open(task: HumanTask, instance: Instance) -> None:
    if task.state != ht.OPEN or instance.status != inst.RUNNING:
        raise Conflict("任务已处理或不在待办状态 (task is not open)", task_id=task.id, state=task.state)


# 委派 hands the delegate the form only: the decisions about the step stay with the owner, who gets the task back.
OWNER_DECISIONS = {"transfer": "转办", "send_back": "退回", "add_signer": "加签", "delegate": "再委派"}


def require_not_delegated(session: Session, task: HumanTask, action: str) -> None:
    """Refuse an owner's decision while the task is out with a delegate (the owner waits, the delegate submits)."""
    if delegation(session, task) is not None:
        raise Conflict(f"任务委派中，不能{OWNER_DECISIONS[action]} (task is delegated: the owner decides once it "
                       "returns)", task_id=task.id, action=action)


def require_running(instance: Instance) -> None:
    if instance.status != inst.RUNNING:
        raise Conflict("流程已结束 (instance is not running)", instance_id=instance.id, status=instance.status)


def require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationFailed("请填写原因 (a reason is required)", [FieldError("/reason", "必填项 (required)")])
    return reason.strip()


def restore(ctx: EngineContext, loaded: Loaded) -> Any:
    specs = ctx.specs.get(loaded.definition, ctx.runtime)
    return ctx.runtime.restore(specs, loaded.instance.state)


def record(ctx: EngineContext, session: Session, subject: Subject, action: str, *, instance: Instance,
           task: HumanTask | None = None, reason: str = "", override: bool = False, **details: Any) -> None:
    """Audit one operation (actor, time, reason); admin overrides carry `override: true`."""
    if override:
        details["override"] = True
    audit.append(session, actor=subject.username, action=action, at=ctx.clock.now(), instance_id=instance.id,
                 task_id=task.id if task else None, reason=reason, payload=details, details=details)
