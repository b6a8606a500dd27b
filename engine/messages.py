"""Message delivery: correlate to a waiting instance, start instances, or buffer with a TTL.

A delivery names a message and a correlation key. The key defaults to the instance's business key;
a process may declare `hospital:correlationKey` (a Python expression over instance data) instead.
Waiting catch events are indexed in `message_waits` after every advance, so matching is one query.
SpiffWorkflow's Camunda message events store the payload under a result variable: we use the
message name (e.g. `payment_result` → `{"status": "paid"}`). A message start event additionally
merges the payload into the top-level data of the new instance.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, pii
from engine.background import create_instance, latest_definitions, load_workflow, spiff_task
from engine.bpmn.events import caught_definitions
from engine.context import EngineContext
from engine.errors import Conflict
from engine.jobs.queue import enqueue, job_handler
from engine.models import Definition, Instance, Job, MessageRecord, MessageWait
from engine.models import message as msg
from engine.timers import aware

log = logging.getLogger("engine.messages")


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery did: `delivered` to a waiting instance, `started` instances, or `buffered`."""

    message_id: str
    status: str
    instance_ids: list[str] = field(default_factory=list)
    duplicate: bool = False


def _waiting_messages(workflow: Any) -> set[tuple[str, str]]:
    """(task id, message name) of every message catch waiting, including each one behind an event gateway."""
    return {(str(task.id), definition.name)
            for task in workflow.event_manager.tasks.values() if not isinstance(task.task_spec, StartEvent)
            for definition in caught_definitions(task) if isinstance(definition, MessageEventDefinition)}


def correlation_key(ctx: EngineContext, definition: Definition, instance: Instance, data: dict[str, Any]) -> str | None:
    """The key messages for this instance must carry (declared expression, else the business key)."""
    expression = (definition.attributes or {}).get("correlationKey")
    if expression:
        try:
            value = ctx.runtime.evaluate(expression, data)
        except Exception:  # noqa: BLE001 - an unusable key simply matches nothing
            return None
        return None if value is None else str(value)
    return instance.business_key


def sync_message_waits(ctx: EngineContext, session: Session, instance: Instance, workflow: Any, *,
                       has_waits: bool = True) -> None:
    """Index the message catches the instance now waits on; queue a match for buffered messages.

    Args:
        has_waits: False when the caller already knows the instance has no `message_waits` rows.
    """
    wanted = _waiting_messages(workflow)
    existing = []
    if has_waits:
        existing = session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id)).all()
    if not wanted and not existing:
        return
    for row in existing:
        if (row.task_id, row.message_name) not in wanted:
            session.delete(row)
    known = {(row.task_id, row.message_name) for row in existing}
    if wanted:
        definition = session.get(Definition, instance.definition_id)
        key = correlation_key(ctx, definition, instance, ctx.runtime.data(workflow))
    for task_id, name in sorted(wanted - known):
        session.add(MessageWait(instance_id=instance.id, task_id=task_id, message_name=name, correlation_key=key,
                                created_at=ctx.clock.now()))
        early = session.scalar(select(MessageRecord).where(
            MessageRecord.status == msg.BUFFERED, MessageRecord.name == name,
            MessageRecord.correlation_key == key, MessageRecord.expires_at > ctx.clock.now())
            .order_by(MessageRecord.received_at).limit(1))
        if early is not None:
            enqueue(session, "message_match", {"message_id": early.id}, run_at=ctx.clock.now(),
                    dedupe_key=f"message_match:{early.id}:{task_id}")
    session.flush()


def _catch(ctx: EngineContext, session: Session, wait: MessageWait, record: MessageRecord) -> bool:
    from engine.instances import apply_workflow

    try:
        instance, definition, workflow = load_workflow(ctx, session, wait.instance_id)
    except Conflict:  # ended or suspended meanwhile
        session.delete(wait)
        return False
    task = spiff_task(workflow, wait.task_id)
    if task is None:
        session.delete(wait)
        return False
    definition_ = next((d for d in caught_definitions(task)
                        if isinstance(d, MessageEventDefinition) and d.name == record.name), None)
    if definition_ is None:
        return False
    event = BpmnEvent(definition_, {"payload": record.payload, "result_var": record.name})
    if workflow.event_manager.catch(event, internal=False) == 0:
        return False
    ctx.runtime.advance(workflow)
    apply_workflow(ctx, session, instance, definition, workflow)
    record.status, record.delivered_at = msg.DELIVERED, ctx.clock.now()
    record.instance_ids = [instance.id]
    audit.append(session, actor=record.sender, action="message.deliver", at=ctx.clock.now(), instance_id=instance.id,
                 payload=record.payload, digest_key=pii.digest_key(ctx),
                 details={"message": record.name, "correlation_key": record.correlation_key, "message_id": record.id})
    return True


def _message_starts(ctx: EngineContext, session: Session, name: str) -> list[Definition]:
    cache = ctx.extras.setdefault("hwf_message_starts", {})
    found = []
    for definition in latest_definitions(session):
        if definition.id not in cache:
            spec, _ = ctx.specs.get(definition, ctx.runtime)
            cache[definition.id] = {s.event_definition.name for s in spec.start.outputs
                                    if isinstance(getattr(s, "event_definition", None), MessageEventDefinition)}
        if name in cache[definition.id]:
            found.append(definition)
    return found


def _start(ctx: EngineContext, session: Session, definition: Definition, record: MessageRecord,
           institution: str | None) -> str:
    payload = record.payload
    institution = institution or payload.get("institution") or ctx.settings.default_institution
    initial = {**payload, "initiator": record.sender, "institution": institution,
               "business_key": record.correlation_key}
    specs = ctx.specs.get(definition, ctx.runtime)
    workflow = ctx.runtime.new_workflow(specs, initial)
    ctx.runtime.advance(workflow)
    start = next(t for t in workflow.event_manager.tasks.values() if isinstance(t.task_spec, StartEvent))
    workflow.event_manager.catch(BpmnEvent(start.task_spec.event_definition,
                                           {"payload": payload, "result_var": record.name}), internal=False)
    ctx.runtime.advance(workflow)
    instance = create_instance(ctx, session, definition, workflow, initiator=record.sender, institution=institution,
                               business_key=record.correlation_key, idempotency_key=f"message:{record.id}",
                               initial=initial, action="instance.start.message")
    return instance.id


def deliver_message(ctx: EngineContext, name: str, *, correlation_key: str | None = None,
                    payload: dict[str, Any] | None = None, idempotency_key: str | None = None,
                    ttl_seconds: int | None = None, sender: str = "system",
                    institution: str | None = None) -> DeliveryResult:
    """Deliver a message: to the instance waiting with this name and key, else to message start events,
    else buffer it until an instance waits (or `ttl_seconds`, default `message_ttl_seconds`, pass).

    The same `idempotency_key` twice returns the first result and has no further effect.
    """
    def command(session: Session) -> DeliveryResult:
        if idempotency_key:
            seen = session.scalar(select(MessageRecord).where(MessageRecord.idempotency_key == idempotency_key))
            if seen is not None:
                return DeliveryResult(seen.id, seen.status, list(seen.instance_ids or []), duplicate=True)
        now = ctx.clock.now()
        record = MessageRecord(name=name, correlation_key=correlation_key, payload=dict(payload or {}),
                               idempotency_key=idempotency_key, sender=sender, received_at=now,
                               expires_at=now + timedelta(seconds=ttl_seconds or ctx.settings.message_ttl_seconds))
        session.add(record)
        session.flush()
        waits = session.scalars(select(MessageWait).where(
            MessageWait.message_name == name, MessageWait.correlation_key == correlation_key)
            .order_by(MessageWait.created_at)).all()
        for wait in waits:
            if _catch(ctx, session, wait, record):
                return DeliveryResult(record.id, record.status, list(record.instance_ids))
        starts = _message_starts(ctx, session, name)
        if starts:
            record.instance_ids = [_start(ctx, session, d, record, institution) for d in starts]
            record.status, record.delivered_at = msg.STARTED, now
            return DeliveryResult(record.id, record.status, list(record.instance_ids))
        audit.append(session, actor=sender, action="message.buffer", at=now, payload=record.payload,
                     digest_key=pii.digest_key(ctx),
                     details={"message": name, "correlation_key": correlation_key, "message_id": record.id})
        return DeliveryResult(record.id, msg.BUFFERED)

    try:
        return ctx.db.run(command, retries=ctx.settings.command_retries)
    except IntegrityError:
        if not idempotency_key:
            raise
        with ctx.db.unit_of_work() as session:  # the same delivery raced itself; report the winner
            seen = session.scalar(select(MessageRecord).where(MessageRecord.idempotency_key == idempotency_key))
            return DeliveryResult(seen.id, seen.status, list(seen.instance_ids or []), duplicate=True)


def match_buffered(ctx: EngineContext, message_id: str) -> bool:
    """Deliver one buffered message if an instance now waits for it (used by `message_match` jobs)."""
    def command(session: Session) -> bool:
        record = session.get(MessageRecord, message_id)
        if record is None or record.status != msg.BUFFERED or aware(record.expires_at) <= ctx.clock.now():
            return False
        waits = session.scalars(select(MessageWait).where(
            MessageWait.message_name == record.name, MessageWait.correlation_key == record.correlation_key)
            .order_by(MessageWait.created_at)).all()
        return any(_catch(ctx, session, wait, record) for wait in waits)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


@job_handler("message_match")
def _run_message_match(ctx: EngineContext, job: Job) -> None:
    match_buffered(ctx, job.payload["message_id"])


def match_buffered_messages(ctx: EngineContext, limit: int = 200) -> int:
    """Safety net for races (a message buffered while the instance was reaching its catch)."""
    with ctx.db.unit_of_work() as session:
        ids = session.scalars(select(MessageRecord.id).join(MessageWait, and_(
            MessageWait.message_name == MessageRecord.name,
            MessageWait.correlation_key == MessageRecord.correlation_key))
            .where(MessageRecord.status == msg.BUFFERED).distinct().limit(limit)).all()
    return sum(1 for message_id in ids if match_buffered(ctx, message_id))


def expire_messages(ctx: EngineContext) -> int:
    """Mark buffered messages past their TTL as expired; they never match afterwards."""
    def command(session: Session) -> int:
        rows = session.scalars(select(MessageRecord).where(
            MessageRecord.status == msg.BUFFERED, MessageRecord.expires_at <= ctx.clock.now())).all()
        for row in rows:
            row.status = msg.EXPIRED
        return len(rows)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def list_messages(ctx: EngineContext, *, status: str | None = None, name: str | None = None,
                  limit: int = 100) -> list[dict[str, Any]]:
    """Recent deliveries (admin view)."""
    with ctx.db.unit_of_work() as session:
        query = select(MessageRecord).order_by(MessageRecord.received_at.desc()).limit(limit)
        if status:
            query = query.where(MessageRecord.status == status)
        if name:
            query = query.where(MessageRecord.name == name)
        return [{"id": r.id, "name": r.name, "correlation_key": r.correlation_key, "status": r.status,
                 "instance_ids": list(r.instance_ids or []), "received_at": r.received_at,
                 "expires_at": r.expires_at, "delivered_at": r.delivered_at} for r in session.scalars(query)]
