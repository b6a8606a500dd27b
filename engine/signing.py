"""Countersign (会签/或签/比例/依次) and added signers, kept in our own tables.

SpiffWorkflow's multi-instance completion condition sees stale results in 3.2, so a countersign step
stays ONE READY Spiff task while votes are rows in `signers` (one human task per signer). The rule
decides here; only then is the Spiff task completed with the aggregated outcome and the votes in data.
This module holds the table logic (no commands); engine/operations/voting.py records votes.
"""
from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from engine.bpmn.runtime import BpmnRuntime, ReadyStep
from engine.errors import InvalidDefinition
from engine.human_tasks import drop_candidates
from engine.models import HumanTask, Instance, Signer, SignPlan, TaskCandidate
from engine.models import human_task as ht
from engine.models import operations as op
from engine.step_facts import StepFacts

log = logging.getLogger("engine.task")
WAITING = ht.WAITING  # a human task on hold while a 加签-before signer acts
RULES = ("all", "any", "ratio", "sequential")
ACTIVE = (op.PENDING, op.OPEN, op.APPROVED, op.REJECTED)


def parse_rule(text: str) -> tuple[str, int, int]:
    """Parse `hospital:countersign`: all | any | ratio:N/M | sequential.

    Raises:
        InvalidDefinition: unknown rule or a bad ratio.
    """
    text = (text or "").strip()
    if text.startswith("ratio:"):
        try:
            num, den = (int(p) for p in text[6:].split("/"))
        except ValueError:
            num = den = 0
        if not 0 < num <= den:
            raise InvalidDefinition(f"会签比例无效 {text}", [])
        return "ratio", num, den
    if text not in RULES:
        raise InvalidDefinition(f"会签规则无效 {text} (all|any|ratio:N/M|sequential)", [])
    return text, 1, 1


def touch(session: Session, instance: Instance, now: datetime) -> None:
    """Force an UPDATE of the instance row so its row_version moves even when nothing else changed.

    Concurrent commands on one instance (two votes of one plan) then conflict and the loser retries,
    instead of both tallying a stale set of votes.
    """
    instance.updated_at = now
    flag_modified(instance, "updated_at")
    session.flush()


def acted_key(signer: Signer) -> tuple[datetime, int]:
    """Order of votes; SQLite returns naive datetimes, PostgreSQL aware ones, so compare in naive UTC."""
    at = signer.acted_at or datetime.min
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at, signer.position


def decide(plan: SignPlan, signers: list[Signer]) -> str | None:
    """The plan's outcome from its votes so far: "approve", "reject", or None (still open).

    all / sequential: any reject rejects, all approve passes. any (或签): the first vote decides.
    ratio N/M: passes at ceil(active * N / M) approvals; rejects as soon as that becomes impossible.
    """
    active = [s for s in signers if s.kind == op.VOTE and s.state in ACTIVE]
    approvals = sum(s.state == op.APPROVED for s in active)
    rejections = sum(s.state == op.REJECTED for s in active)
    undecided = len(active) - approvals - rejections
    if plan.rule == "any":
        if approvals or rejections:
            first = min((s for s in active if s.acted_at), key=acted_key)
            return "approve" if first.state == op.APPROVED else "reject"
        return None
    if plan.rule == "ratio":
        required = max(1, math.ceil(len(active) * plan.ratio_num / plan.ratio_den))
        if approvals >= required:
            return "approve"
        return "reject" if approvals + undecided < required else None
    if rejections:
        return "reject"
    return "approve" if undecided == 0 and approvals else None


def signers_of(session: Session, plan: SignPlan) -> list[Signer]:
    return list(session.scalars(select(Signer).where(Signer.plan_id == plan.id)
                                .order_by(Signer.position, Signer.created_at)).all())


def plan_for(session: Session, task: HumanTask) -> SignPlan | None:
    """The open sign plan on the task's Spiff task, if any."""
    return session.scalar(select(SignPlan).where(SignPlan.instance_id == task.instance_id,
                                                 SignPlan.spiff_task_id == task.spiff_task_id,
                                                 SignPlan.status == op.OPEN))


def clone_task(session: Session, template: HumanTask, assignee: str, now: datetime,
               state: str = ht.OPEN) -> HumanTask:
    """A new human task for the same Spiff step, assigned to one person (a signer's own row)."""
    seq = session.scalar(select(func.max(HumanTask.seq)).where(HumanTask.instance_id == template.instance_id))
    row = HumanTask(instance_id=template.instance_id, spiff_task_id=template.spiff_task_id, node_id=template.node_id,
                    name=template.name, process_key=template.process_key, title=template.title,
                    form_key=template.form_key, candidate_roles=[], candidate_users=[assignee],
                    institution=template.institution, assignee=assignee, state=state, due_at=template.due_at,
                    priority=template.priority, created_at=now, seq=(seq or 0) + 1)
    session.add(row)
    session.flush()
    session.add(TaskCandidate(task_id=row.id, kind="user", value=assignee, institution=row.institution))
    session.flush()
    return row


def drop_row(session: Session, row: HumanTask, now: datetime, state: str = ht.CANCELLED) -> None:
    """Take a human task out of every inbox (cancelled, removed signer, withdrawn vote)."""
    row.state = state
    row.completed_at = now
    drop_candidates(session, row.id)


def open_signer(session: Session, signer: Signer, template: HumanTask, now: datetime) -> HumanTask:
    row = clone_task(session, template, signer.username, now)
    signer.human_task_id = row.id
    signer.state = op.OPEN
    return row


def start_plan(session: Session, task: HumanTask, rule: str, num: int, den: int, usernames: list[str],
               now: datetime, added_by: str = "") -> tuple[SignPlan, list[HumanTask]]:
    """Turn a freshly created human task into a sign plan: the task row serves the first signer.

    Returns:
        The plan and every row now open for a signer.
    """
    plan = SignPlan(instance_id=task.instance_id, spiff_task_id=task.spiff_task_id, node_id=task.node_id,
                    rule=rule, ratio_num=num, ratio_den=den, created_at=now)
    session.add(plan)
    session.flush()
    rows = []
    for position, username in enumerate(dict.fromkeys(usernames)):
        # The first signer holds the step already; nobody "added" them, so nobody may 减签 them but an admin.
        signer = Signer(instance_id=task.instance_id, plan_id=plan.id, username=username, position=position,
                        added_by=added_by if position else "", created_at=now)
        session.add(signer)
        if position == 0:
            _reuse_row(session, task, username)
            signer.human_task_id, signer.state = task.id, op.OPEN
            rows.append(task)
        elif rule != "sequential":
            rows.append(open_signer(session, signer, task, now))
    session.flush()
    return plan, rows


def _reuse_row(session: Session, task: HumanTask, username: str) -> None:
    if task.assignee == username:
        return
    drop_candidates(session, task.id)
    task.assignee, task.candidate_users, task.candidate_roles = username, [username], []
    session.add(TaskCandidate(task_id=task.id, kind="user", value=username, institution=task.institution))


def cancel_plan(session: Session, plan: SignPlan, now: datetime, status: str = op.CANCELLED) -> list[str]:
    """Close a plan; signers who have not acted are cancelled with their rows. Returns cancelled task ids."""
    plan.status, plan.decided_at = status, now
    cancelled = []
    for signer in signers_of(session, plan):
        if signer.state in (op.OPEN, op.PENDING):
            signer.state = op.CANCELLED
            row = session.get(HumanTask, signer.human_task_id) if signer.human_task_id else None
            if row is not None and row.state == ht.OPEN:
                drop_row(session, row, now)
                cancelled.append(row.id)
    session.flush()
    return cancelled


def votes_of(signers: list[Signer]) -> list[dict[str, Any]]:
    return [{"signer": s.username, "outcome": s.outcome, "at": s.acted_at.isoformat() if s.acted_at else None}
            for s in signers if s.state in (op.APPROVED, op.REJECTED)]


def _signer_names(runtime: BpmnRuntime, step: ReadyStep) -> list[str]:
    expression = step.extensions.get("signersExpr")
    value = runtime.evaluate(expression, step.data) if expression else step.extensions.get("candidateUsers")
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    return [str(v) for v in (value or []) if v]


def _cleanup(session: Session, instance: Instance, ready_ids: set[str], now: datetime, facts: StepFacts) -> None:
    """Plans and held tasks whose Spiff task is gone (send back, withdraw, skip) are cancelled.

    `facts` says whether the instance has open plans or before-signers at all (most have neither) and
    carries its waiting rows, so a plain step costs no query here.
    """
    if facts.open_plans:
        for plan in session.scalars(select(SignPlan).where(SignPlan.instance_id == instance.id,
                                                           SignPlan.status == op.OPEN)).all():
            if plan.spiff_task_id not in ready_ids:
                cancel_plan(session, plan, now)
    for row in facts.waiting_rows:
        if row.spiff_task_id not in ready_ids:
            drop_row(session, row, now)
    if not facts.open_before_signers:
        return
    for signer in session.scalars(select(Signer).where(Signer.instance_id == instance.id,
                                                       Signer.kind == op.BEFORE, Signer.state == op.OPEN)).all():
        row = session.get(HumanTask, signer.human_task_id)
        if row is None or row.state != ht.OPEN:
            signer.state = op.CANCELLED


def materialise(session: Session, runtime: BpmnRuntime, instance: Instance, ready: list[ReadyStep],
                created: list[HumanTask], now: datetime, facts: StepFacts) -> list[HumanTask]:
    """After `sync_human_tasks`: start a sign plan for each new countersign step, clean up stale ones.

    Returns:
        Every newly open human task (the created ones plus one row per extra signer).
    """
    _cleanup(session, instance, {s.task_id for s in ready}, now, facts)
    steps = {s.task_id: s for s in ready}
    result = []
    for task in created:
        step = steps.get(task.spiff_task_id)
        rule_text = step.extensions.get("countersign") if step else None
        names = _signer_names(runtime, step) if rule_text else []
        if not names:
            if rule_text:
                log.warning("countersign without signers", extra={"node_id": task.node_id})
            result.append(task)
            continue
        rule, num, den = parse_rule(rule_text)
        _, rows = start_plan(session, task, rule, num, den, names, now)
        result.extend(rows)
    session.flush()
    return result
