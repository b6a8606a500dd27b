"""Task SLAs: an `sla` job at each open task's due time marks it overdue and escalates per step.

`hospital:escalation` on the user task chooses what happens when the task is still open at `due_at`
(`camunda:dueDate` / `hospital:sla`): `notify` (a `notify.staff` call and a `task.overdue` webhook),
`reassign:<role>` (candidates become that role, assignee cleared) or `auto:<outcome>` (completed by
`system` with that outcome). The overdue flag lives in `task_sla`; every escalation is audited.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import NotFound
from engine.human_tasks import close_task, drop_candidates
from engine.jobs.queue import enqueue, job_handler
from engine.models import Definition, HumanTask, Instance, Job, TaskCandidate, TaskSla
from engine.models import human_task as ht
from engine.operations._common import load_task
from engine.timers import aware
from engine.views import TaskView

log = logging.getLogger("engine.sla")


def schedule_sla(ctx: EngineContext, session: Session, instance: Instance) -> None:
    """Enqueue one `sla` job per open task of this instance touched by the command that has a due date."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, HumanTask) and obj.instance_id == instance.id and obj.state == ht.OPEN and obj.due_at:
            enqueue(session, "sla", {"task_id": obj.id}, run_at=aware(obj.due_at), instance_id=instance.id,
                    dedupe_key=f"sla:{obj.id}")


def _reassign(session: Session, task: HumanTask, role: str) -> str:
    task.candidate_roles, task.candidate_users, task.assignee = [role], [], None
    drop_candidates(session, task.id)
    session.add(TaskCandidate(task_id=task.id, kind="role", value=role, institution=task.institution))
    return f"reassigned to {role}"


def _auto_complete(ctx: EngineContext, session: Session, task: HumanTask, instance: Instance,
                   definition: Definition, outcome: str) -> str:
    from engine.instances import apply_workflow
    from engine.tasks import _step

    workflow, step = _step(ctx, instance, definition, task)
    ctx.runtime.complete_step(workflow, step.task_id, {"outcome": outcome, f"{task.node_id}_outcome": outcome})
    close_task(session, task, actor="system", outcome=outcome, data={}, now=ctx.clock.now())
    apply_workflow(ctx, session, instance, definition, workflow)
    return f"completed with {outcome}"


def _notify(ctx: EngineContext, session: Session, task: HumanTask) -> str:
    from engine.webhooks import queue_event

    params = {"task_id": task.id, "title": task.title, "step": task.name, "roles": task.candidate_roles,
              "users": task.candidate_users, "assignee": task.assignee, "institution": task.institution,
              "due_at": aware(task.due_at).isoformat()}
    enqueue(session, "connector_call", {"connector": "notify.staff", "params": params,
                                        "idempotency_key": f"overdue:{task.id}"},
            run_at=ctx.clock.now(), instance_id=task.instance_id, dedupe_key=f"overdue_notice:{task.id}",
            max_attempts=ctx.settings.connector_max_attempts)
    queue_event(ctx, session, "task.overdue", {"task": params}, key=task.id)
    return "notified"


def escalate_task(ctx: EngineContext, task_id: str) -> str | None:
    """Mark an open task overdue and apply its step's escalation (once).

    Returns:
        What was done, or None when the task is closed, not yet due, or already escalated.
    """
    def command(session: Session) -> str | None:
        try:
            task, instance, definition = load_task(session, task_id)
        except NotFound:
            return None
        now = ctx.clock.now()
        if task.state != ht.OPEN or not task.due_at or aware(task.due_at) > now:
            return None
        if session.get(TaskSla, task.id) is not None:
            return None
        action = (definition.steps.get(task.node_id, {}).get("extensions", {}) or {}).get("escalation") or ""
        row = TaskSla(task_id=task.id, instance_id=instance.id, overdue=True, overdue_at=now, escalation=action)
        session.add(row)
        session.flush()
        if action == "notify":
            result = _notify(ctx, session, task)
        elif action.startswith("reassign:"):
            result = _reassign(session, task, action.split(":", 1)[1].strip())
        elif action.startswith("auto:"):
            result = _auto_complete(ctx, session, task, instance, definition, action.split(":", 1)[1].strip())
        else:
            result = "flagged"
        row.escalated_at, row.result = now, result
        audit.append(session, actor="system", action="task.escalate", at=now, instance_id=instance.id,
                     task_id=task.id, details={"node_id": task.node_id, "escalation": action, "result": result})
        return result

    return ctx.db.run(command, retries=ctx.settings.command_retries)


@job_handler("sla")
def _run_sla_job(ctx: EngineContext, job: Job) -> None:
    escalate_task(ctx, job.payload["task_id"])


def scan_overdue(ctx: EngineContext, limit: int = 500) -> int:
    """Safety net: enqueue `sla` jobs for overdue open tasks that have none (e.g. created before upgrade)."""
    def command(session: Session) -> int:
        rows = session.scalars(select(HumanTask).outerjoin(TaskSla, TaskSla.task_id == HumanTask.id).where(
            HumanTask.state == ht.OPEN, HumanTask.due_at <= ctx.clock.now(), TaskSla.task_id.is_(None))
            .limit(limit)).all()
        created = 0
        for task in rows:
            created += session.scalar(select(Job.id).where(Job.dedupe_key == f"sla:{task.id}")) is None
            enqueue(session, "sla", {"task_id": task.id}, run_at=ctx.clock.now(), instance_id=task.instance_id,
                    dedupe_key=f"sla:{task.id}")
        return created

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def overdue_tasks(ctx: EngineContext, *, institution: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Open tasks past their due time, with the escalation applied so far (supervisor view)."""
    with ctx.db.unit_of_work() as session:
        query = (select(HumanTask, TaskSla).outerjoin(TaskSla, TaskSla.task_id == HumanTask.id)
                 .where(HumanTask.state == ht.OPEN, HumanTask.due_at <= ctx.clock.now())
                 .order_by(HumanTask.due_at).limit(limit))
        if institution:
            query = query.where(HumanTask.institution == institution)
        return [{"task": TaskView.of(t), "overdue": True, "escalation": s.escalation if s else None,
                 "escalation_result": s.result if s else None} for t, s in session.execute(query).all()]
