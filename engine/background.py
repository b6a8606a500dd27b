"""The bridge between engine commands and background work.

`schedule_background_work` runs inside every command that persists a workflow (from
`instances.apply_workflow`), in the same transaction: it stamps and schedules timers, queues
service-task connector calls, records the message catches the instance waits on, schedules SLA
escalations and queues webhook events. Everything it writes commits or rolls back with the command.
"""
from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engine import audit, pii
from engine.context import EngineContext
from engine.errors import Conflict, NotFound
from engine.models import Definition, Instance
from engine.models import instance as inst
from engine.operations._common import find_instance
from engine.step_facts import StepFacts

log = logging.getLogger("engine.background")
ACTIVE = (inst.RUNNING, inst.ERROR)


def schedule_background_work(ctx: EngineContext, session: Session, instance: Instance, definition: Definition,
                             workflow: Any, facts: StepFacts) -> None:
    """Derive timers, connector jobs, message waits, SLA jobs and webhook events from the workflow.

    Args:
        ctx: the engine context (its clock decides due times).
        session: the command's session; rows are flushed, never committed here.
        instance: the instance row the workflow belongs to (already flushed, so it has an id).
        definition: the instance's definition (whether its process has service tasks at all).
        workflow: the SpiffWorkflow workflow just advanced.
        facts: whether the instance has message waits and anyone subscribes to webhooks (one read per step).
    """
    from engine import messages, service_tasks, sla, timers, webhooks

    changed = timers.schedule_timers(ctx, session, instance, workflow)
    if ctx.specs.has_connectors(definition, ctx.runtime):  # else no task can be a ConnectorTask: skip the walk
        service_tasks.schedule_connector_calls(ctx, session, instance, workflow)
    messages.sync_message_waits(ctx, session, instance, workflow, has_waits=facts.message_waits)
    sla.schedule_sla(ctx, session, instance)
    if facts.webhooks:
        webhooks.queue_instance_events(ctx, session, instance)
    if changed:
        instance.state = ctx.runtime.dump(workflow)
        session.flush()
    wake_workers_after_commit(ctx, session)


def wake_workers_after_commit(ctx: EngineContext, session: Session) -> None:
    """Ask the embedded worker (if any) to look for due jobs as soon as this transaction commits."""
    wakeup = ctx.extras.get("job_wakeup")
    if wakeup is None or session.info.get("hwf_wakeup"):
        return
    session.info["hwf_wakeup"] = True

    def _after_commit(_session: Session) -> None:
        _session.info.pop("hwf_wakeup", None)
        wakeup()

    event.listen(session, "after_commit", _after_commit, once=True)


def load_workflow(ctx: EngineContext, session: Session, instance_id: str) -> tuple[Instance, Definition, Any]:
    """Load an instance, its definition and its restored workflow inside a command.

    Raises:
        NotFound: no such instance.
        Conflict: the instance has ended or is suspended.
    """
    found = find_instance(session, instance_id)
    if found is None:
        raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
    instance, definition = found
    if instance.status not in ACTIVE:
        raise Conflict("流程实例已结束 (instance is not running)", instance_id=instance_id, status=instance.status)
    specs = ctx.specs.get(definition, ctx.runtime)
    return instance, definition, ctx.runtime.restore(specs, instance.state)


def spiff_task(workflow: Any, task_id: str) -> Any:
    """The SpiffWorkflow task with this id (also inside subprocesses), or None."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 - unknown ids raise in some SpiffWorkflow versions
        return None


def all_workflows(workflow: Any) -> list[Any]:
    return [workflow, *workflow.subprocesses.values()]


def create_instance(ctx: EngineContext, session: Session, definition: Definition, workflow: Any, *,
                    initiator: str, institution: str, business_key: str | None, idempotency_key: str | None,
                    initial: dict[str, Any], action: str) -> Instance:
    """Persist a workflow started by the engine itself (timer start, message start) and audit it."""
    from engine.instances import apply_workflow

    now = ctx.clock.now()
    instance = Instance(definition_id=definition.id, process_key=definition.process_key,
                        business_key=business_key, idempotency_key=idempotency_key, institution=institution,
                        initiator=initiator, version=definition.version, state="", created_at=now)
    session.add(instance)
    apply_workflow(ctx, session, instance, definition, workflow)
    audit.append(session, actor=initiator, action=action, at=now, instance_id=instance.id, payload=initial,
                 digest_key=pii.digest_key(ctx),
                 details={"process_key": definition.process_key, "version": definition.version,
                          "business_key": business_key})
    return instance


def latest_definitions(session: Session) -> list[Definition]:
    """The newest version of every deployed process."""
    from sqlalchemy import func

    newest = (select(Definition.process_key, func.max(Definition.version).label("v"))
              .group_by(Definition.process_key).subquery())
    query = select(Definition).join(newest, (Definition.process_key == newest.c.process_key)
                                    & (Definition.version == newest.c.v)).order_by(Definition.process_key)
    return list(session.scalars(query).all())


def tick(ctx: EngineContext) -> dict[str, int]:
    """Periodic housekeeping (embedded worker loop or Celery beat): start timers, buffered messages.

    Returns:
        Counts of what was done, for logs and tests.
    """
    from engine import messages, sla, timers

    return {
        "start_timers": timers.schedule_start_timers(ctx),
        "messages_matched": messages.match_buffered_messages(ctx),
        "messages_expired": messages.expire_messages(ctx),
        "overdue_found": sla.scan_overdue(ctx),
    }
