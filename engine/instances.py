"""Start and inspect process instances."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, pii
from engine.background import schedule_background_work
from engine.context import EngineContext
from engine.definitions import latest_definition
from engine.errors import NotFound
from engine.forms import Form, StepPermissions, accept_submission
from engine.human_tasks import render_title, sync_human_tasks
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.models import instance as inst
from engine.notifications.service import notify, notify_assigned
from engine.permissions import authorize, run_command
from engine.security.form_fields import NONE, mask
from engine.signing import materialise
from engine.step_facts import read_step_facts
from engine.subject import Subject
from engine.views import InstanceView

log = logging.getLogger("engine.instance")


def start_form_of(definition: Definition) -> Form | None:
    """The start form snapshotted with this definition version at deploy time (None: free payload)."""
    key = (definition.attributes or {}).get("startForm")
    raw = (definition.forms or {}).get(key) if key else None
    return Form(key, raw["schema"], raw.get("ui", {})) if raw else None


def _existing(session: Session, process_key: str, idempotency_key: str | None) -> Instance | None:
    if not idempotency_key:
        return None
    return session.scalar(select(Instance).where(
        Instance.process_key == process_key, Instance.idempotency_key == idempotency_key))


def _view(session: Session, instance: Instance, with_data: dict[str, Any] | None = None,
          history: bool = False) -> InstanceView:
    """Commands return open tasks only (constant cost); `history=True` adds every finished task."""
    query = select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.seq)
    if not history:
        query = query.where(HumanTask.state == "open")
    return InstanceView.of(instance, instance.version, list(session.scalars(query).all()), with_data)


@dataclass(frozen=True)
class AppliedStep:
    created: list[HumanTask]  # newly open tasks (one per new step, or per signer of a countersign)
    open_tasks: list[HumanTask]  # every open task of the instance afterwards, by seq (what _view would read)


def apply_workflow(ctx: EngineContext, session: Session, instance: Instance, definition: Definition,
                   workflow: Any) -> list[HumanTask]:
    """Persist the workflow into the instance row and materialise its ready steps.

    Returns:
        The newly open tasks.
    """
    return persist_step(ctx, session, instance, definition, workflow).created


def persist_step(ctx: EngineContext, session: Session, instance: Instance, definition: Definition,
                 workflow: Any) -> AppliedStep:
    """`apply_workflow`, also returning the instance's open tasks so a command's answer needs no re-read.

    The open tasks are the rows read open at the start of the step plus the rows it created, minus those
    it closed: every state change in between goes through these loaded objects (sync, sign plans).
    """
    now = ctx.clock.now()
    runtime = ctx.runtime
    instance.state = runtime.dump(workflow)
    instance.updated_at = now
    data = runtime.data(workflow)
    # A title is shown to everyone who lists the instance: marked fields go into it masked.
    titled = mask(data, runtime.serializer.sensitive_fields(workflow.spec) or NONE)
    instance.title = render_title(definition.attributes.get("title"), titled, definition.name)
    finished = runtime.is_completed(workflow) and instance.status != inst.COMPLETED
    if finished:
        instance.status = inst.COMPLETED
        instance.ended_at = now
    session.flush()
    ready = runtime.ready_steps(workflow)
    facts = read_step_facts(session, instance.id)
    created = sync_human_tasks(session, runtime, instance, ready, now, facts)
    # Countersign steps become sign plans (one row per signer); stale plans and holds are cancelled.
    created = materialise(session, runtime, instance, ready, created, now, facts)
    notify_assigned(ctx, session, instance, created)
    if finished:
        notify(ctx, session, "completed", [instance.initiator], instance=instance,
               extra={"outcome": data.get("outcome")})
    # timers, connectors, messages, SLA, webhooks
    schedule_background_work(ctx, session, instance, definition, workflow, facts)
    live = dict.fromkeys([*facts.open_rows, *created])
    return AppliedStep(created, sorted((t for t in live if t.state == ht.OPEN), key=lambda t: t.seq))


def start_instance(
    ctx: EngineContext,
    process_key: str,
    *,
    initiator: str,
    institution: str,
    business_key: str | None = None,
    data: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    admit: Callable[[Definition], None] | None = None,
) -> InstanceView:
    """Start the latest version of a process and run it to its first wait state.

    The same `idempotency_key` for the same process returns the instance created the first time.

    Args:
        admit: Called with the latest definition in the command's transaction before anything else
            (also before an idempotent replay is answered); what it raises ends the command. The caller's
            start-role check, without a transaction of its own (`engine.starting.start_with_form`).

    Raises:
        NotFound: the process key has no deployed version.
        ScriptError: a script or condition failed before the first wait state (nothing is stored).
    """

    def command(session: Session) -> InstanceView:
        definition = latest_definition(session, process_key)
        if admit is not None:
            admit(definition)
        found = _existing(session, process_key, idempotency_key)
        if found is not None:
            return _view(session, found)
        specs = ctx.specs.get(definition, ctx.runtime)
        accepted = accept_submission(start_form_of(definition), StepPermissions(), {}, dict(data or {}))
        initial = {**accepted, "initiator": initiator, "institution": institution,
                   "business_key": business_key}
        workflow = ctx.runtime.new_workflow(specs, initial)
        ctx.runtime.advance(workflow)
        instance = Instance(
            definition_id=definition.id, process_key=process_key, business_key=business_key,
            idempotency_key=idempotency_key, institution=institution, initiator=initiator,
            version=definition.version, state="", created_at=ctx.clock.now(),
        )
        session.add(instance)
        applied = persist_step(ctx, session, instance, definition, workflow)
        audit.append(session, actor=initiator, action="instance.start", at=ctx.clock.now(),
                     instance_id=instance.id, payload=initial, digest_key=pii.digest_key(ctx),
                     details={"process_key": process_key, "version": definition.version,
                              "business_key": business_key})
        return InstanceView.of(instance, instance.version, applied.open_tasks)

    try:
        view = ctx.db.run(command, retries=ctx.settings.command_retries)
    except IntegrityError:
        # Two identical requests raced; the loser returns what the winner created.
        with ctx.db.unit_of_work() as session:
            found = _existing(session, process_key, idempotency_key)
            if found is None:
                raise
            return _view(session, found)
    log.info("started", extra={"instance_id": view.id, "process_key": process_key})
    return view


def get_instance(ctx: EngineContext, instance_id: str, with_data: bool = False, *,
                 subject: Subject | None = None) -> InstanceView:
    """An instance with its open tasks and task history (optionally its current data).

    With `subject`, only someone who may read the instance gets it (initiator, candidates, whoever acted,
    CC readers, admins), as on the instance page; a refusal is audited. Without, the caller has decided.

    Raises:
        NotFound: no such instance.  PermissionDenied: `subject` may not read it.
    """

    def command(session: Session) -> InstanceView:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
        if subject is not None:
            authorize(ctx, session, subject, "read", instance=instance)
        data = None
        if with_data:
            definition = session.get(Definition, instance.definition_id)
            specs = ctx.specs.get(definition, ctx.runtime)
            data = ctx.runtime.data(ctx.runtime.restore(specs, instance.state))
            if subject is not None:
                data = pii.shown(ctx, session, subject, instance=instance, definition=definition, data=data)
        return _view(session, instance, data, history=True)

    if subject is not None:
        return run_command(ctx, command)
    with ctx.db.unit_of_work() as session:
        return command(session)


def find_instances(ctx: EngineContext, *, business_key: str | None = None, process_key: str | None = None,
                   limit: int = 100) -> list[InstanceView]:
    with ctx.db.unit_of_work() as session:
        query = select(Instance).order_by(Instance.created_at.desc()).limit(limit)
        if business_key:
            query = query.where(Instance.business_key == business_key)
        if process_key:
            query = query.where(Instance.process_key == process_key)
        return [_view(session, i) for i in session.scalars(query).all()]


def cancel_instance(ctx: EngineContext, instance_id: str, *, actor: str, reason: str) -> InstanceView:
    """Cancel a running instance in one transaction: open/waiting tasks and pending jobs are cancelled,
    message waits dropped, the instance marked ``cancelled`` and ``instance.cancel`` audited.

    Raises:
        NotFound: no such instance.
        Conflict: the instance already ended (completed or cancelled).
        ValidationFailed: no reason given.
    """
    from sqlalchemy import delete

    from engine.errors import Conflict, FieldError, ValidationFailed
    from engine.models import Job, MessageWait
    from engine.models import human_task as ht
    from engine.models import job as jobs
    from engine.webhooks import queue_instance_cancelled

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写取消原因 (a reason is required)",
                               [FieldError("/reason", "取消原因必填 (reason is required)", "required")])

    def command(session: Session) -> InstanceView:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
        if instance.status in (inst.COMPLETED, inst.CANCELLED):
            raise Conflict("流程已结束，不能取消 (instance already ended)", instance_id=instance_id,
                           status=instance.status)
        now = ctx.clock.now()
        tasks = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state.in_([ht.OPEN, "waiting"]))).all()
        for task in tasks:
            task.state = ht.CANCELLED
            task.completed_at = now
        pending = session.scalars(select(Job).where(
            Job.instance_id == instance_id, Job.status.in_([jobs.PENDING, jobs.RUNNING]))).all()
        for job in pending:
            job.status, job.finished_at = jobs.CANCELLED, now
        session.execute(delete(MessageWait).where(MessageWait.instance_id == instance_id))
        instance.status, instance.ended_at, instance.updated_at = inst.CANCELLED, now, now
        session.flush()
        audit.append(session, actor=actor, action="instance.cancel", at=now, instance_id=instance.id,
                     reason=reason, details={"reason": reason, "cancelled_tasks": [t.id for t in tasks],
                              "cancelled_jobs": [j.id for j in pending]})
        queue_instance_cancelled(ctx, session, instance, actor=actor, reason=reason, tasks=list(tasks))
        return _view(session, instance, history=True)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def find_by_idempotency_key(ctx: EngineContext, process_key: str, idempotency_key: str) -> InstanceView | None:
    """The instance an earlier start with this idempotency key created, if any (API replays answer 200)."""
    with ctx.db.unit_of_work() as session:
        found = _existing(session, process_key, idempotency_key)
        return _view(session, found) if found is not None else None
