"""BPMN timers driven by the injected clock and the job table.

SpiffWorkflow computes timer targets from the wall clock and fires them when it next refreshes. We
take that decision away from it: when a timer starts waiting we compute its due time from
`ctx.clock`, store it in the task's internal data (`hwf_due`) and push SpiffWorkflow's own target far
into the future, so it never fires by itself. A `timer` job runs at the due time and fires exactly that
timer through SpiffWorkflow's event API (`event_fired`, or one cycle step). Tests move a FakeClock and
run the worker: nothing sleeps.

Timer start events start a new instance per occurrence (`timer_start` jobs, computed from the
definition's deployment time and scheduled by `tick`).
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.background import all_workflows, create_instance, latest_definitions, load_workflow, spiff_task
from engine.bpmn.events import caught_definitions, fire_caught, is_multiple
from engine.context import EngineContext
from engine.errors import Conflict
from engine.jobs.queue import enqueue, job_handler
from engine.models import Definition, Instance, Job
from engine.models import job as jobs

log = logging.getLogger("engine.timers")
FAR = "9999-12-31T00:00:00+00:00"
PAST = "2000-01-01T00:00:00+00:00"
DUE = "hwf_due"
GATEWAY_TIMER = "hwf_gateway_timer"  # which timer behind an event-based gateway is due


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; treat them as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _duration(value: str, start: datetime) -> timedelta:
    return TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value), start)


def parse_cycle(value: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """`R[n]/duration`, `R[n]/start/duration` or `R[n]/duration/end` → (cycles or -1, first, interval)."""
    parts = value.upper().replace("--", "/").split("/")
    cycles = int(parts[0].lstrip("R")) if parts[0].lstrip("R") else -1
    if len(parts) == 2:
        interval = _duration(parts[1], now)
        return cycles, now + interval, interval
    return TimerEventDefinition.parse_iso_recurring_interval(value)


def _timers_of(task: Any) -> list[tuple[int, Any]]:
    return [(i, d) for i, d in enumerate(caught_definitions(task)) if isinstance(d, TimerEventDefinition)]


def timer_tasks(workflow: Any) -> list[Any]:
    """WAITING timer catch events (intermediate, boundary, start, and event-based gateways with timers)."""
    return [t for t in workflow.event_manager.tasks.values() if t.state == TaskState.WAITING and _timers_of(t)]


def _first_due(task: Any, definition: Any, now: datetime) -> tuple[datetime, Any]:
    """When a timer definition first fires, and the SpiffWorkflow `event_value` that keeps it from firing alone."""
    value = str(task.workflow.script_engine.evaluate(task, definition.expression))
    if isinstance(definition, CycleTimerEventDefinition):
        cycles, first, interval = parse_cycle(value, now)
        return first, {"cycles": cycles, "next": FAR, "duration": interval.total_seconds()}
    if isinstance(definition, TimeDateEventDefinition):
        return TimerEventDefinition.get_datetime(value), FAR
    return now + _duration(value, now), FAR


def _stamp(task: Any, now: datetime) -> datetime:
    if is_multiple(task):  # an event-based gateway: only its earliest timer can ever win
        due, index = min((_first_due(task, d, now)[0], i) for i, d in _timers_of(task))
        task._set_internal_data(event_value=FAR, **{GATEWAY_TIMER: index})
    else:
        due, event_value = _first_due(task, task.task_spec.event_definition, now)
        task._set_internal_data(event_value=event_value)
    task._set_internal_data(**{DUE: due.isoformat()})
    return due


def schedule_timers(ctx: EngineContext, session: Session, instance: Instance, workflow: Any) -> bool:
    """Stamp newly waiting timers with clock-based due times and enqueue one `timer` job each.

    Returns:
        True when the workflow state changed (the caller re-serializes it).
    """
    changed = False
    now = ctx.clock.now()
    for task in timer_tasks(workflow):
        if DUE in task.internal_data:
            continue
        due = _stamp(task, now)
        changed = True
        _enqueue_timer(session, instance.id, task, due)
    return changed


def timer_node(task: Any) -> str:
    """The timer event's element id (behind an event-based gateway: the catch event on the due branch)."""
    if GATEWAY_TIMER in task.internal_data:
        return task.task_spec.outputs[task.internal_data[GATEWAY_TIMER]].bpmn_id
    return task.task_spec.bpmn_id


def _enqueue_timer(session: Session, instance_id: str, task: Any, due: datetime) -> None:
    enqueue(session, "timer", {"instance_id": instance_id, "task_id": str(task.id), "node_id": timer_node(task),
                               "due": due.isoformat()},
            run_at=due, instance_id=instance_id, dedupe_key=f"timer:{task.id}:{due.isoformat()}")


def fire_task_timer(task: Any, *, last_cycle: bool = False) -> datetime | None:
    """Fire one waiting timer now. Returns the next due time of a cycle with cycles left, else None."""
    definition = task.task_spec.event_definition
    if is_multiple(task):
        task.internal_data.pop(DUE, None)
        fire_caught(task, task.internal_data.pop(GATEWAY_TIMER))
        return None
    if not isinstance(definition, CycleTimerEventDefinition):
        task.internal_data.pop(DUE, None)
        task._set_internal_data(event_fired=True)
        task.task_spec._update(task)
        return None
    value = dict(task.internal_data["event_value"])
    if last_cycle:
        value["cycles"] = 1
    task._set_internal_data(event_value={**value, "next": PAST})
    task.task_spec._update(task)  # SpiffWorkflow runs one cycle: a new path leaves the event
    value = task.internal_data.get("event_value")
    if not value or value["cycles"] == 0:
        task.internal_data.pop(DUE, None)
        task.task_spec._update(task)  # no cycles left: the event itself completes
        return None
    task._set_internal_data(event_value={**value, "next": FAR})
    following = datetime.fromisoformat(task.internal_data[DUE]) + timedelta(seconds=value["duration"])
    task._set_internal_data(**{DUE: following.isoformat()})
    return following


def fire_timer(ctx: EngineContext, instance_id: str, task_id: str, due: str) -> bool:
    """Fire the timer `task_id` of an instance if it still waits for the occurrence `due`.

    Returns:
        False when the timer no longer waits (cancelled by another path, already fired, instance ended).
    """
    from engine.instances import apply_workflow

    def command(session: Session) -> bool:
        try:
            instance, definition, workflow = load_workflow(ctx, session, instance_id)
        except Conflict:
            return False
        task = spiff_task(workflow, task_id)
        if task is None or task.state != TaskState.WAITING or task.internal_data.get(DUE) != due:
            return False
        node_id = timer_node(task)
        following = fire_task_timer(task)
        ctx.runtime.advance(workflow)
        apply_workflow(ctx, session, instance, definition, workflow)
        if following is not None:
            _enqueue_timer(session, instance.id, task, following)
        audit.append(session, actor="system", action="timer.fire", at=ctx.clock.now(), instance_id=instance.id,
                     details={"node_id": node_id, "due": due})
        return True

    return ctx.db.run(command, retries=ctx.settings.command_retries)


@job_handler("timer")
def _run_timer_job(ctx: EngineContext, job: Job) -> None:
    payload = job.payload
    fire_timer(ctx, payload["instance_id"], payload["task_id"], payload["due"])


# ---- timer start events -------------------------------------------------------------------------

def start_timer_expression(ctx: EngineContext, definition: Definition) -> str | None:
    """The evaluated timer of the process's timer start event, or None (cached per definition)."""
    cache = ctx.extras.setdefault("hwf_start_timers", {})
    if definition.id not in cache:
        spec, _ = ctx.specs.get(definition, ctx.runtime)
        found = None
        for start in spec.start.outputs:
            event_def = getattr(start, "event_definition", None)
            if isinstance(start, StartEvent) and isinstance(event_def, TimerEventDefinition):
                found = (type(event_def).__name__, str(ctx.runtime.evaluate(event_def.expression, {})))
        cache[definition.id] = found
    return cache[definition.id]


def occurrence(kind_value: tuple[str, str], origin: datetime, k: int) -> datetime | None:
    """When the k-th (0-based) instance of a timer-started process is due, or None when no more."""
    kind, value = kind_value
    if kind == "CycleTimerEventDefinition":
        cycles, first, interval = parse_cycle(value, origin)
        return first + k * interval if cycles < 0 or k < cycles else None
    if k > 0:
        return None
    if kind == "TimeDateEventDefinition":
        return TimerEventDefinition.get_datetime(value)
    return origin + _duration(value, origin)


def schedule_start_timers(ctx: EngineContext) -> int:
    """Enqueue the next `timer_start` job of every latest definition with a timer start event."""
    def command(session: Session) -> int:
        count = 0
        for definition in latest_definitions(session):
            timer = start_timer_expression(ctx, definition)
            if timer is None:
                continue
            prefix = f"timer_start:{definition.id}:"
            rows = session.scalars(select(Job.status).where(Job.dedupe_key.like(prefix + "%"))).all()
            if any(s in (jobs.PENDING, jobs.RUNNING) for s in rows):
                continue
            due = occurrence(timer, aware(definition.deployed_at), len(rows))
            if due is None:
                continue
            enqueue(session, "timer_start", {"definition_id": definition.id, "occurrence": len(rows)},
                    run_at=due, dedupe_key=f"{prefix}{len(rows)}")
            count += 1
        return count

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def start_by_timer(ctx: EngineContext, definition_id: str, k: int) -> str | None:
    """Start the k-th timer-started instance of a definition (once: the occurrence is its idempotency key)."""
    key = f"timer_start:{definition_id}:{k}"

    def command(session: Session) -> str | None:
        definition = session.get(Definition, definition_id)
        latest = {d.process_key: d.id for d in latest_definitions(session)}
        if definition is None or latest.get(definition.process_key) != definition.id:
            return None  # a newer version replaced it
        found = session.scalar(select(Instance.id).where(Instance.process_key == definition.process_key,
                                                         Instance.idempotency_key == key))
        if found:
            return found
        institution = definition.attributes.get("institution") or ctx.settings.default_institution
        initial = {"initiator": "system", "institution": institution, "business_key": None, "timer_occurrence": k}
        specs = ctx.specs.get(definition, ctx.runtime)
        workflow = ctx.runtime.new_workflow(specs, initial)
        ctx.runtime.advance(workflow)
        for sub in all_workflows(workflow):
            for task in timer_tasks(sub):
                if isinstance(task.task_spec, StartEvent):
                    task.internal_data.setdefault("event_value", {"cycles": 1, "next": FAR, "duration": 0})
                    fire_task_timer(task, last_cycle=True)
        ctx.runtime.advance(workflow)
        instance = create_instance(ctx, session, definition, workflow, initiator="system", institution=institution,
                                   business_key=None, idempotency_key=key, initial=initial,
                                   action="instance.start.timer")
        return instance.id

    return ctx.db.run(command, retries=ctx.settings.command_retries)


@job_handler("timer_start")
def _run_timer_start_job(ctx: EngineContext, job: Job) -> None:
    start_by_timer(ctx, job.payload["definition_id"], int(job.payload["occurrence"]))
