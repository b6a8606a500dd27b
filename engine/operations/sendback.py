"""退回 (send back) and 撤回 (withdraw): rewind the workflow to a completed step on the path taken.

Both keep full history in our tables: the rows of the earlier round stay (completed), the rows of
the dropped part are cancelled, and the step sent back to gets a new row (round 2) prefilled with
the current data. Spiff's reset is guarded by engine/bpmn/rewind.py (path steps only).
"""
from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.rewind import is_done_step, merged_join, path_steps, reached_after, reset_to
from engine.context import EngineContext
from engine.errors import Conflict, NotFound
from engine.human_tasks import close_task
from engine.instances import apply_workflow
from engine.models import HumanTask, Signer, SignPlan
from engine.models import human_task as ht
from engine.models import operations as op
from engine.notifications.service import notify
from engine.operations._common import (
    Loaded,
    load_instance,
    load_task,
    record,
    require_not_delegated,
    require_open,
    require_reason,
    restore,
)
from engine.operations.handover import reassign
from engine.permissions import allows, authorize, run_command
from engine.signing import clone_task, plan_for, touch
from engine.subject import Subject
from engine.views import TaskView

APPLICANT, PREVIOUS = "applicant", "previous"


def _completed_row(session: Session, instance_id: str, spiff_task_id: str) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.spiff_task_id == spiff_task_id,
        HumanTask.state == ht.COMPLETED).order_by(HumanTask.seq.desc()).limit(1))


def _choose(session: Session, loaded: Loaded, workflow: Any, from_spiff_id: str, target: str) -> tuple[str, str]:
    """Resolve "applicant" / "previous" / a node id to (spiff task id, who acted there last)."""
    steps = [s for s in path_steps(workflow, from_spiff_id)
             if s.task_id != from_spiff_id and _completed_row(session, loaded.instance.id, s.task_id)]
    if target == APPLICANT:
        steps = [s for s in steps if _completed_row(session, loaded.instance.id, s.task_id).completed_by
                 == loaded.instance.initiator] or steps[-1:]
    elif target != PREVIOUS:
        steps = [s for s in steps if s.node_id == target]
    if not steps:
        raise Conflict("目标步骤不在已走过的路径上 (target step is not on the path taken)", target=target)
    chosen = steps[-1] if target == APPLICANT else steps[0]
    return chosen.task_id, _completed_row(session, loaded.instance.id, chosen.task_id).completed_by


def rewind(ctx: EngineContext, session: Session, loaded: Loaded, workflow: Any, from_spiff_id: str,
           target_spiff_id: str, assign_to: str | None, marks: dict[str, Any]) -> tuple[list[HumanTask], list[str]]:
    """Reset to the target step, re-run to the wait states, persist; the new row goes to `assign_to`.

    `from_spiff_id` is the task whose data is carried back; it may be the target itself (撤回).

    Returns:
        The newly open tasks and the ids of tasks cancelled by the rewind (other votes, sibling branches).
    """
    data = copy.deepcopy(dict(workflow.get_task_from_id(UUID(from_spiff_id)).data))
    open_before = set(session.scalars(select(HumanTask.id).where(
        HumanTask.instance_id == loaded.instance.id, HumanTask.state == ht.OPEN)).all())
    reset_to(workflow, from_spiff_id, target_spiff_id, {**data, **marks})
    ctx.runtime.advance(workflow)
    created = apply_workflow(ctx, session, loaded.instance, loaded.definition, workflow)
    for row in created:
        if row.spiff_task_id == target_spiff_id and assign_to and plan_for(session, row) is None:
            reassign(session, row, assign_to)
    cancelled = sorted(i for i in open_before if session.get(HumanTask, i).state != ht.OPEN)
    return created, cancelled


def send_back(ctx: EngineContext, task_id: str, subject: Subject, *, target: str = PREVIOUS,
              reason: str) -> list[TaskView]:
    """退回: return the instance to the applicant, the previous step or a chosen earlier step.

    Args:
        target: "applicant", "previous", or the node id of a completed step on the path taken.
        reason: mandatory; shown to the person who gets the task back.

    Out of a countersign the other votes are cancelled; across a parallel split the reset drops the
    sibling branches (their open tasks are cancelled) and the split runs again; a target inside the
    same branch leaves the sibling branch untouched. The step sent back to gets a new task for the
    person who did it last, prefilled with the current data.

    Raises:
        AccessDenied, Conflict (target not on the path, task not open), ValidationFailed (no reason).
    """
    reason = require_reason(reason)

    def command(session: Session) -> list[TaskView]:
        loaded = load_task(session, task_id)
        task = loaded.task
        require_open(task, loaded.instance)
        authorize(ctx, session, subject, "send_back", task=task, instance=loaded.instance)
        require_not_delegated(session, task, "send_back")
        workflow = restore(ctx, loaded)
        target_id, previous_actor = _choose(session, loaded, workflow, task.spiff_task_id, target)
        close_task(session, task, actor=subject.username, outcome="sent_back", data={}, now=ctx.clock.now())
        created, cancelled = rewind(ctx, session, loaded, workflow, task.spiff_task_id, target_id, previous_actor,
                                    {"outcome": "sent_back", "sent_back_by": subject.username,
                                     "sent_back_reason": reason})
        for row in created:
            notify(ctx, session, "sent_back", [row.assignee or previous_actor], instance=loaded.instance,
                   task=row, actor=subject.username, reason=reason)
        record(ctx, session, subject, "task.send_back", instance=loaded.instance, task=task, reason=reason,
               target=target, node_id=task.node_id, cancelled=cancelled)
        return [TaskView.of(t) for t in created]

    return run_command(ctx, command)


def _acted_on(session: Session, instance_id: str, spiff_ids: set[str]) -> bool:
    """Whether anyone completed a task (or cast a vote: votes are completed rows) on these Spiff tasks."""
    if not spiff_ids:
        return False
    return session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.spiff_task_id.in_(spiff_ids),
        HumanTask.state == ht.COMPLETED).limit(1)) is not None


def _decided_refusal(session: Session, instance_id: str, signer: Signer | None) -> Conflict | None:
    """The refusal that needs no workflow: rewinding a decided countersign would throw away the other
    signers' votes along with mine."""
    plan = session.get(SignPlan, signer.plan_id) if signer is not None and signer.plan_id else None
    if plan is not None and plan.status in (op.APPROVED, op.REJECTED):
        return Conflict("会签已有结论，不能撤回 (the countersign has already decided)", instance_id=instance_id)
    return None


def _refusal(session: Session, instance_id: str, mine: HumanTask, workflow: Any) -> Conflict | None:
    """Why my step cannot be rewound to me now, or None. Only what follows MY step counts: the
    tasks below it in the Spiff tree, so a sibling parallel branch moving on does not block me."""
    if not is_done_step(workflow, mine.spiff_task_id):  # sent back past it, or merged away by a join
        return Conflict("流程已越过你的步骤，不能撤回 (the process has moved on past your step)",
                        instance_id=instance_id)
    after = reached_after(workflow, mine.spiff_task_id)
    if _acted_on(session, instance_id, {str(t.id) for t in after}):
        return Conflict("下一步已处理，不能撤回 (the next step was already acted on)", instance_id=instance_id)
    join = merged_join(after)
    if join is not None:
        return Conflict("并行分支已汇合，不能撤回 (the parallel branches have already joined after your step)",
                        instance_id=instance_id, join=join)
    return None


def _retract_vote(ctx: EngineContext, session: Session, row: HumanTask, signer: Signer) -> HumanTask:
    """A countersign that is still open: my vote goes back to "not voted" and I get the task again."""
    now = ctx.clock.now()
    row.state = "withdrawn"
    signer.state, signer.outcome, signer.data, signer.acted_at = op.OPEN, None, None, None
    new = clone_task(session, row, signer.username, now)
    signer.human_task_id = new.id
    return new


def latest_own(session: Session, instance_id: str, username: str) -> HumanTask | None:
    """The user's latest completed task of the instance (what 撤回 takes back), if any."""
    return session.scalar(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.completed_by == username,
        HumanTask.state == ht.COMPLETED, HumanTask.outcome.is_distinct_from("sent_back"))
        .order_by(HumanTask.seq.desc()).limit(1))


def _open_vote(session: Session, mine: HumanTask) -> tuple[Signer | None, SignPlan | None]:
    """My signer row, and its plan when that countersign is still open (then only my vote is retracted)."""
    signer = session.scalar(select(Signer).where(Signer.human_task_id == mine.id))
    plan = session.get(SignPlan, signer.plan_id) if signer and signer.plan_id else None
    return signer, plan if plan is not None and plan.status == op.OPEN else None


def withdrawable(ctx: EngineContext, session: Session, subject: Subject, loaded: Loaded) -> bool:
    """Whether `withdraw` would accept the subject's withdrawal now (for offering the button).

    Makes the command's own checks; past the cheap ones that needs one workflow restore.
    """
    instance = loaded.instance
    mine = latest_own(session, instance.id, subject.username)
    if mine is None or instance.status != "running" or not allows(
            ctx, session, subject, "withdraw", task=mine, instance=instance, owner=mine.completed_by):
        return False
    signer, plan = _open_vote(session, mine)
    if plan is not None:
        return True
    if _decided_refusal(session, instance.id, signer) is not None:
        return False
    return _refusal(session, instance.id, mine, restore(ctx, loaded)) is None


def withdraw(ctx: EngineContext, instance_id: str, subject: Subject, *, reason: str = "") -> list[TaskView]:
    """撤回: take back my latest submission or approval while nobody after me has acted.

    The applicant withdraws the application; an approver withdraws their approval (inside a running
    countersign only their vote is retracted). "After me" is what follows my step on its own path:
    the tasks below it in the workflow tree. The tasks opened after mine are cancelled and I get my
    step back, prefilled. A parallel sibling branch is not after me: withdrawing a branch approval
    while the join still waits reopens my step and leaves the other branch and the join alone.

    Raises:
        NotFound (nothing to withdraw), AccessDenied, Conflict (the next step was already acted on,
        the branches already joined after my step, the countersign I voted in has decided).
    """

    def command(session: Session) -> list[TaskView]:
        loaded = load_instance(session, instance_id)
        mine = latest_own(session, instance_id, subject.username)
        if mine is None:
            raise NotFound("没有可撤回的办理记录 (nothing of yours to withdraw)", instance_id=instance_id)
        authorize(ctx, session, subject, "withdraw", task=mine, instance=loaded.instance, owner=mine.completed_by)
        if loaded.instance.status != "running":
            raise Conflict("流程已结束 (instance is not running)", instance_id=instance_id)
        signer, plan = _open_vote(session, mine)
        if plan is not None:
            created = [_retract_vote(ctx, session, mine, signer)]
            touch(session, loaded.instance, ctx.clock.now())
            record(ctx, session, subject, "task.withdraw_vote", instance=loaded.instance, task=mine, reason=reason)
            return [TaskView.of(t) for t in created]
        if (refusal := _decided_refusal(session, instance_id, signer)) is not None:
            raise refusal
        workflow = restore(ctx, loaded)
        if (refusal := _refusal(session, instance_id, mine, workflow)) is not None:
            raise refusal
        frontier = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.state.in_([ht.OPEN, ht.WAITING]))).all()
        created, cancelled = rewind(ctx, session, loaded, workflow, mine.spiff_task_id, mine.spiff_task_id,
                                    subject.username, {"withdrawn_by": subject.username})
        for row in frontier:
            if row.id in cancelled:
                notify(ctx, session, "withdrawn", [row.assignee or ""], instance=loaded.instance, task=row,
                       actor=subject.username)
        record(ctx, session, subject, "task.withdraw", instance=loaded.instance, task=mine, reason=reason,
               cancelled=cancelled)
        return [TaskView.of(t) for t in created]

    return run_command(ctx, command)
