"""Helpers shared by the operation commands: loading, restoring, auditing."""
from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.models import instance as inst
from engine.subject import Subject


class Loaded(NamedTuple):
    task: HumanTask | None
    instance: Instance
    definition: Definition


def load_task(session: Session, task_id: str) -> Loaded:
    """The task with its instance, read in ONE statement.

    Under READ COMMITTED two separate reads may straddle another command's commit: the task read
    before it, the instance (and its row_version) after it. The optimistic lock would then pass on
    stale task data (two claimers both winning). One joined SELECT sees a single snapshot.
    """
    row = session.execute(
        select(HumanTask, Instance).join(Instance, Instance.id == HumanTask.instance_id)
        .where(HumanTask.id == task_id)
    ).first()
    if row is None:
        raise NotFound("任务不存在 (task not found)", task_id=task_id)
    task, instance = row
    return Loaded(task, instance, session.get(Definition, instance.definition_id))


def load_instance(session: Session, instance_id: str) -> Loaded:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
    return Loaded(None, instance, session.get(Definition, instance.definition_id))


def require_open(task: HumanTask, instance: Instance) -> None:
    if task.state != ht.OPEN or instance.status != inst.RUNNING:
        raise Conflict("任务已处理或不在待办状态 (task is not open)", task_id=task.id, state=task.state)


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
                 task_id=task.id if task else None, reason=reason, payload=details, details=details,
                 lock=ctx.db.advisory_lock)
