"""Materialise READY user tasks of a workflow into the human_tasks table (and back-fill history)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.bpmn.runtime import BpmnRuntime, ReadyStep
from engine.db import defer, run_deferred
from engine.iso8601 import due_from
from engine.models import HumanTask, Instance, TaskCandidate
from engine.models import human_task as ht
from engine.models.base import new_id
from engine.step_facts import StepFacts

log = logging.getLogger("engine.task")


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render_title(template: str | None, data: dict[str, Any], fallback: str) -> str:
    """Render a process title template such as '{applicant_name} 请假 {days}天' over instance data."""
    if not template:
        return fallback
    try:
        return template.format_map(_Blank(data))[:300]
    except (ValueError, AttributeError, IndexError, KeyError):
        return fallback


def _candidates(runtime: BpmnRuntime, step: ReadyStep) -> tuple[list[str], list[str], str | None]:
    ext = step.extensions
    roles = list(ext.get("candidateGroups", []))
    if not roles and ext.get("laneRole"):
        roles = [ext["laneRole"]]
    users = list(ext.get("candidateUsers", []))
    assignee = ext.get("assignee")
    if ext.get("assigneeExpr"):
        value = runtime.evaluate(ext["assigneeExpr"], step.data)
        assignee = str(value) if value else None
    return roles, users, assignee


def _institution(runtime: BpmnRuntime, step: ReadyStep, instance: Instance) -> str:
    expression = step.extensions.get("institutionExpr")
    if expression:
        value = runtime.evaluate(expression, step.data)
        if value:
            return str(value)
    return instance.institution


def _new_task(runtime: BpmnRuntime, instance: Instance, step: ReadyStep, now: datetime) -> HumanTask:
    roles, users, assignee = _candidates(runtime, step)
    due_text = step.extensions.get("dueDate") or step.extensions.get("sla")
    return HumanTask(
        instance_id=instance.id,
        spiff_task_id=step.task_id,
        node_id=step.node_id,
        name=step.name,
        process_key=instance.process_key,
        title=instance.title,
        form_key=step.extensions.get("formKey"),
        candidate_roles=roles,
        candidate_users=users,
        institution=_institution(runtime, step, instance),
        assignee=assignee,
        state=ht.OPEN,
        due_at=due_from(due_text, now) if due_text else None,
        priority=int(step.data.get("priority", 0) or 0) if str(step.data.get("priority", "0")).isdigit() else 0,
        created_at=now,
    )


def _candidate_values(task: HumanTask) -> list[dict[str, str]]:
    """The `task_candidates` rows of a task: one per candidate role, one per candidate user or assignee."""
    users = list(task.candidate_users) + ([task.assignee] if task.assignee else [])
    return ([{"task_id": task.id, "kind": "role", "value": r, "institution": task.institution}
             for r in dict.fromkeys(task.candidate_roles)]
            + [{"task_id": task.id, "kind": "user", "value": u, "institution": task.institution}
               for u in dict.fromkeys(users)])


def _candidate_rows(task: HumanTask) -> list[TaskCandidate]:
    return [TaskCandidate(**values) for values in _candidate_values(task)]


def sync_human_tasks(
    session: Session, runtime: BpmnRuntime, instance: Instance, ready: list[ReadyStep], now: datetime,
    facts: StepFacts,
) -> list[HumanTask]:
    """Create rows for newly READY steps; cancel open rows whose step is no longer READY.

    Args:
        facts: the instance's open rows and highest `seq`, read once per step (engine/step_facts.py).

    Returns:
        The newly created tasks (for notifications and audit).
    """
    by_spiff_id = {row.spiff_task_id: row for row in facts.open_rows}
    ready_ids = {step.task_id for step in ready}
    for row in facts.open_rows:
        if row.spiff_task_id not in ready_ids:
            row.state = ht.CANCELLED
            row.completed_at = now
            drop_candidates(session, row.id)
    created = []
    seq = facts.max_seq
    for step in ready:
        if step.task_id in by_spiff_id:
            continue
        seq += 1
        task = _new_task(runtime, instance, step, now)
        task.id, task.seq = new_id(), seq
        session.add(task)
        created.append(task)
    session.flush()
    # The candidate rows after their tasks (foreign key), deferred: on PostgreSQL they go out with the
    # COMMIT unless something reads or flushes first (engine.db.defer keeps the order then).
    for task in created:
        for values in _candidate_values(task):
            defer(session, _INSERT_CANDIDATE, values)
    return created


_DROP_CANDIDATES = TaskCandidate.__table__.delete().where(TaskCandidate.task_id == bindparam("task_id"))
_INSERT_CANDIDATE = TaskCandidate.__table__.insert()


def drop_candidates(session: Session, task_id: str) -> None:
    """Take a task out of every candidate inbox (its `task_candidates` rows); built once, run per step."""
    run_deferred(session)  # candidate rows still deferred go in first, so that this removes them too
    session.connection().execute(_DROP_CANDIDATES, {"task_id": task_id})  # Core: skip the ORM layer


def close_task(session: Session, task: HumanTask, *, actor: str, outcome: str | None,
               data: dict[str, Any], now: datetime) -> None:
    task.state = ht.COMPLETED
    task.completed_by = actor
    task.completed_at = now
    task.outcome = outcome
    task.data = data
    drop_candidates(session, task.id)


def refresh_open_tasks(session: Session, instance: Instance, steps: dict[str, Any]) -> None:
    """Give an instance's open tasks the name, form and candidates of `steps` (after a version migration)."""
    rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == ht.OPEN)).all()
    for row in rows:
        step = steps.get(row.node_id)
        if step is None:
            continue
        ext = step.get("extensions") or {}
        row.name = step.get("name") or row.name
        row.form_key = ext.get("formKey")
        lane = [ext["laneRole"]] if ext.get("laneRole") else []
        row.candidate_roles = list(ext.get("candidateGroups") or lane)
        row.candidate_users = list(ext.get("candidateUsers") or [])
        drop_candidates(session, row.id)
        session.add_all(_candidate_rows(row))
    session.flush()
