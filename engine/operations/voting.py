"""What "complete" means for a task that is part of a sign plan, a 加签-before hold, or a delegation.

Called by `engine.tasks.complete_task` after authorization and form validation; returns None for a
plain task (the caller then completes the Spiff task itself).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, pii
from engine.bpmn.rewind import ready_data
from engine.context import EngineContext
from engine.errors import FieldError, ValidationFailed
from engine.human_tasks import close_task
from engine.instances import apply_workflow
from engine.models import Definition, Grant, HumanTask, Instance, Signer, SignPlan
from engine.models import human_task as ht
from engine.models import operations as op
from engine.notifications.service import notify
from engine.signing import (
    WAITING,
    acted_key,
    cancel_plan,
    clone_task,
    decide,
    open_signer,
    signers_of,
    touch,
    votes_of,
)
from engine.subject import Subject

VOTE_OUTCOMES = ("approve", "reject")


def finish_plan(ctx: EngineContext, session: Session, plan: SignPlan, outcome: str, instance: Instance,
                definition: Definition, workflow: Any, now: datetime) -> list[HumanTask]:
    """The rule (or an admin) has decided: cancel open votes, complete the Spiff task with outcome and votes.

    An admin's "skipped" closes the plan as cancelled: it was neither approved nor rejected.
    """
    status = {"approve": op.APPROVED, "reject": op.REJECTED}.get(outcome, op.CANCELLED)
    cancel_plan(session, plan, now, status=status)
    plan.outcome = outcome
    signers = signers_of(session, plan)
    merged: dict[str, Any] = {}
    for signer in sorted((s for s in signers if s.acted_at), key=acted_key):
        merged.update(pii.open_data(ctx, signer.data) or {})
    updates = {**merged, "outcome": outcome, f"{plan.node_id}_outcome": outcome,
               f"{plan.node_id}_votes": votes_of(signers)}
    ctx.runtime.complete_step(workflow, plan.spiff_task_id, updates)
    return apply_workflow(ctx, session, instance, definition, workflow)


def next_in_order(session: Session, plan: SignPlan, template: HumanTask, now: datetime) -> list[HumanTask]:
    """Sequential plans: open the next pending signer when nobody is open."""
    signers = signers_of(session, plan)
    if plan.rule != "sequential" or any(s.state == op.OPEN for s in signers):
        return []
    pending = [s for s in signers if s.state == op.PENDING]
    return [open_signer(session, pending[0], template, now)] if pending else []


def settle(ctx: EngineContext, session: Session, plan: SignPlan, template: HumanTask, instance: Instance,
           definition: Definition, workflow: Any, now: datetime) -> list[HumanTask]:
    """Re-tally a plan after a vote, a removal or an addition; finish it or open the next signer."""
    outcome = decide(plan, signers_of(session, plan))
    if outcome is not None:
        return finish_plan(ctx, session, plan, outcome, instance, definition, workflow, now)
    created = next_in_order(session, plan, template, now)
    if created:
        notify(ctx, session, "assigned", [t.assignee for t in created], instance=instance, task=created[0])
    touch(session, instance, now)
    return created


def _vote(ctx: EngineContext, session: Session, signer: Signer, task: HumanTask, instance: Instance,
          definition: Definition, workflow: Any, subject: Subject, outcome: str | None,
          accepted: dict[str, Any], now: datetime) -> list[HumanTask]:
    if outcome not in VOTE_OUTCOMES:
        raise ValidationFailed("会签只能同意或拒绝 (a countersign vote is approve or reject)",
                               [FieldError("/outcome", "可选: approve, reject", "enum")])
    stored = pii.seal_data(ctx, definition, accepted)
    close_task(session, task, actor=subject.username, outcome=outcome, data=stored, now=now)
    signer.state = op.APPROVED if outcome == "approve" else op.REJECTED
    signer.outcome, signer.data, signer.acted_at = outcome, stored, now
    session.flush()
    plan = session.get(SignPlan, signer.plan_id)
    return settle(ctx, session, plan, task, instance, definition, workflow, now)


def _before_done(ctx: EngineContext, session: Session, signer: Signer, task: HumanTask, instance: Instance,
                 definition: Definition, workflow: Any, subject: Subject, outcome: str | None,
                 accepted: dict[str, Any], now: datetime) -> list[HumanTask]:
    """The 加签-before signer has acted: their opinion is recorded and the held task reopens."""
    stored = pii.seal_data(ctx, definition, accepted)
    close_task(session, task, actor=subject.username, outcome=outcome, data=stored, now=now)
    signer.state = op.REJECTED if outcome == "reject" else op.APPROVED
    signer.outcome, signer.data, signer.acted_at = outcome, stored, now
    held = session.get(HumanTask, signer.waiting_task_id)
    data = ready_data(workflow, task.spiff_task_id)
    data.update(accepted)
    data.setdefault("added_signer_opinions", []).append({"signer": subject.username, "outcome": outcome})
    if held is not None and held.state == WAITING:
        held.state = ht.OPEN  # before apply_workflow, so the still-READY step keeps its open row
        notify(ctx, session, "returned", [held.assignee or ""], instance=instance, task=held,
               actor=subject.username)
    session.flush()
    return apply_workflow(ctx, session, instance, definition, workflow)


def _delegate_done(ctx: EngineContext, session: Session, grant: Any, task: HumanTask, instance: Instance,
                   definition: Definition, workflow: Any, subject: Subject, accepted: dict[str, Any],
                   now: datetime) -> list[HumanTask]:
    """The delegate has acted: their data is prefilled, history keeps their row, the owner finishes."""
    history = clone_task(session, task, subject.username, now)
    close_task(session, history, actor=subject.username, outcome="delegate_done",
               data=pii.seal_data(ctx, definition, accepted), now=now)
    ready_data(workflow, task.spiff_task_id).update(accepted)
    grant.revoked_at = now
    task.assignee = grant.granted_by
    signer = session.scalar(select(Signer).where(Signer.human_task_id == task.id))
    if signer is not None:
        signer.username = grant.granted_by
    notify(ctx, session, "returned", [grant.granted_by], instance=instance, task=task, actor=subject.username)
    return apply_workflow(ctx, session, instance, definition, workflow)


def intercept(ctx: EngineContext, session: Session, *, task: HumanTask, instance: Instance,
              definition: Definition, workflow: Any, subject: Subject, outcome: str | None,
              accepted: dict[str, Any], reason: str, grant: Grant | None, signer: Signer | None
              ) -> list[HumanTask] | None:
    """Handle completion of a delegated task, a 加签-before task or a countersign vote.

    Args:
        grant, signer: the task's active delegation and open signer row (`load_task_links`).

    Returns:
        The newly open tasks, or None when the task is a plain step (the caller completes it).
    """
    now = ctx.clock.now()
    if grant is not None and grant.grantee == subject.username:
        action, created = "task.delegate_done", _delegate_done(ctx, session, grant, task, instance, definition,
                                                                workflow, subject, accepted, now)
    elif signer is not None and signer.kind == op.BEFORE:
        action, created = "task.added_signer_done", _before_done(ctx, session, signer, task, instance, definition,
                                                                  workflow, subject, outcome, accepted, now)
    elif signer is not None:
        action, created = "task.vote", _vote(ctx, session, signer, task, instance, definition, workflow, subject,
                                             outcome, accepted, now)
    else:
        return None
    audit.append(session, actor=subject.username, action=action, at=now, instance_id=instance.id,
                 task_id=task.id, reason=reason, payload=accepted, digest_key=pii.digest_key(ctx),
                 details={"node_id": task.node_id, "outcome": outcome})
    return created
