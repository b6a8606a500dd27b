"""Human-task commands and queries: list, detail, complete."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine import audit, pii
from engine.bpmn.runtime import ReadyStep
from engine.context import EngineContext
from engine.errors import Conflict, FieldError, ValidationFailed
from engine.forms import Form, StepPermissions, accept_submission, visible_data, visible_schema
from engine.human_tasks import close_task
from engine.inbox import visible_tasks
from engine.instances import _view, persist_step
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.models import instance as inst
from engine.operations._common import load_task, load_task_links
from engine.operations.voting import intercept
from engine.permissions import authorize, may_act, run_command
from engine.subject import Subject
from engine.views import InstanceView, TaskDetail, TaskView

log = logging.getLogger("engine.task")
DEFAULT_OUTCOMES = ["approve", "reject"]


@dataclass(frozen=True)
class CompleteResult:
    instance: InstanceView
    created: list[TaskView]


def list_tasks(ctx: EngineContext, subject: Subject, *, state: str = ht.OPEN, limit: int = 50,
               offset: int = 0) -> list[TaskView]:
    """The subject's inbox (open) or done list (completed), newest first."""
    query = visible_tasks(subject, state=state).order_by(HumanTask.created_at.desc(), HumanTask.id)
    return ctx.db.read(lambda session: [TaskView.of(t) for t in session.scalars(query.limit(limit).offset(offset))])


def _form(definition: Definition, key: str | None) -> Form | None:
    if not key or key not in definition.forms:
        return None
    raw = definition.forms[key]
    return Form(key=key, schema=raw["schema"], ui=raw.get("ui", {}))


def _step(ctx: EngineContext, instance: Instance, definition: Definition, task: HumanTask) -> tuple[Any, ReadyStep]:
    specs = ctx.specs.get(definition, ctx.runtime)
    workflow = ctx.runtime.restore(specs, instance.state)
    for step in ctx.runtime.ready_steps(workflow):
        if step.task_id == task.spiff_task_id:
            return workflow, step
    raise Conflict("任务已不在待办状态 (task is no longer ready)", task_id=task.id)


def get_task(ctx: EngineContext, task_id: str, subject: Subject) -> TaskDetail:
    """A task as the subject may see it (hidden fields removed server-side)."""
    def command(session: Session) -> TaskDetail:
        task, instance, definition = load_task(session, task_id)
        authorize(ctx, session, subject, "read", task=task, instance=instance)
        form = _form(definition, task.form_key)
        extensions = definition.steps.get(task.node_id, {}).get("extensions", {})
        perms = StepPermissions.from_step(task.node_id, extensions, form)
        keep: frozenset[str] = frozenset()
        if task.state == ht.OPEN and instance.status == inst.RUNNING:
            _, step = _step(ctx, instance, definition, task)
            data = step.data
            # What they must fill in, the holder of the task sees as it is: the applicant correcting a
            # returned form, or whoever claimed the step (an audited act). A role pool sees it masked until
            # claimed; an unchanged masked value submits as unchanged.
            holder = task.assignee == subject.username or instance.initiator == subject.username
            if form and holder and may_act(ctx, subject, task):
                keep = pii.editable_fields(form.schema, perms.readonly, perms.hidden)
        else:
            data = task.data or {}
        data = pii.shown(ctx, session, subject, instance=instance, definition=definition,
                         data=visible_data(dict(data), perms), keep=keep, task_id=task.id)
        return TaskDetail(
            task=TaskView.of(task),
            schema=visible_schema(form, perms) if form else None,
            ui=form.ui if form else {},
            data=data,
            outcomes=list(extensions.get("outcomes") or DEFAULT_OUTCOMES),
            readonly=sorted(perms.readonly),
            instance=_view(session, instance),
        )

    return run_command(ctx, command)


def complete_task(
    ctx: EngineContext,
    task_id: str,
    subject: Subject,
    *,
    outcome: str | None = None,
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> CompleteResult:
    """Complete a ready task: check the actor, validate the form, advance the workflow, record audit.

    Raises:
        NotFound, PermissionDenied, Conflict (already done / concurrent update), ValidationFailed.
    """
    submitted = dict(data or {})
    # The outcome argument and a form's own `outcome` field are one value (forms may declare it).
    if outcome is None and isinstance(submitted.get("outcome"), str):
        outcome = submitted["outcome"]
    elif outcome is not None:
        submitted["outcome"] = outcome

    def command(session: Session) -> CompleteResult:
        (task, instance, definition), grant, signer = load_task_links(session, task_id)
        if task.state != ht.OPEN or instance.status != inst.RUNNING:
            raise Conflict("任务已处理 (task already handled)", task_id=task_id, state=task.state)
        authorize(ctx, session, subject, "complete", task=task, instance=instance)
        workflow, step = _step(ctx, instance, definition, task)
        outcomes = list(step.extensions.get("outcomes") or DEFAULT_OUTCOMES)
        if outcome is not None and outcome not in outcomes:
            raise ValidationFailed("处理结果无效 (invalid outcome)",
                                   [FieldError("/outcome", f"可选: {', '.join(outcomes)}", "enum")])
        form = _form(definition, task.form_key)
        perms = StepPermissions.from_step(task.node_id, step.extensions, form)
        # A marked field sent back as it was shown (masked) is an unchanged value.
        sent = pii.drop_masked_echo(submitted, step.data, pii.fields_of(ctx, definition), hidden=perms.hidden)
        accepted = accept_submission(form, perms, step.data, sent)
        special = intercept(ctx, session, task=task, instance=instance, definition=definition, workflow=workflow,
                            subject=subject, outcome=outcome, accepted=accepted, reason=reason, grant=grant,
                            signer=signer)
        if special is not None:  # countersign vote, 加签-before signer, or delegate
            return CompleteResult(_view(session, instance), [TaskView.of(t) for t in special])
        updates = {**accepted, "outcome": outcome, f"{task.node_id}_outcome": outcome}
        ctx.runtime.complete_step(workflow, step.task_id, updates)
        now = ctx.clock.now()
        close_task(session, task, actor=subject.username, outcome=outcome,
                   data=pii.seal_data(ctx, definition, accepted), now=now)
        applied = persist_step(ctx, session, instance, definition, workflow)
        audit.append(session, actor=subject.username, action="task.complete", at=now, instance_id=instance.id,
                     task_id=task.id, reason=reason, payload=accepted, digest_key=pii.digest_key(ctx),
                     details={"node_id": task.node_id, "outcome": outcome})
        return CompleteResult(InstanceView.of(instance, instance.version, applied.open_tasks),
                              [TaskView.of(t) for t in applied.created])

    result = run_command(ctx, command)
    log.info("completed", extra={"task_id": task_id, "instance_id": result.instance.id})
    return result
