"""Operational commands: migrations and audit-chain verification."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.identity.policy import seed_policy
from engine.migrate import upgrade
from engine.models import AuditRecord, Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.models import instance as inst


def migrate_database(ctx: EngineContext) -> None:
    """Apply all Alembic migrations, then seed the base Casbin policy (policies/seed_policy.csv)."""
    upgrade(ctx.settings.effective_database_url)
    seed_policy(ctx)


def verify_audit_chain(ctx: EngineContext) -> audit.ChainReport:
    """Recompute the audit hash chain; a report names the first edited or deleted record."""
    with ctx.db.unit_of_work() as session:
        return audit.verify_chain(session)


def check_consistency(ctx: EngineContext) -> list[str]:
    """Cross-check stored state after a crash or restore; an empty list means consistent.

    Checks: the audit chain verifies; for every running instance the open human-task rows are
    exactly the READY user steps of its stored workflow; every completed task has its audit record
    (a completion, vote, 加签/委派 submission, send-back, escalation or admin decision).
    """
    problems = []
    report = verify_audit_chain(ctx)
    if not report.ok:
        problems.append(f"audit chain broken at {report.first_bad_seq}: {report.problem}")
    with ctx.db.unit_of_work() as session:
        running = session.scalars(select(Instance).where(Instance.status == inst.RUNNING)).all()
        for instance in running:
            definition = session.get(Definition, instance.definition_id)
            workflow = ctx.runtime.restore(ctx.specs.get(definition, ctx.runtime), instance.state)
            ready = {s.task_id for s in ctx.runtime.ready_steps(workflow)}
            open_rows = set(session.scalars(select(HumanTask.spiff_task_id).where(
                HumanTask.instance_id == instance.id, HumanTask.state == ht.OPEN)).all())
            if ready != open_rows:
                problems.append(
                    f"instance {instance.id}: ready steps {sorted(ready)} != open tasks {sorted(open_rows)}")
        unaudited = _completed_without_audit(session)
        if unaudited:
            problems.append(f"{unaudited} completed tasks without an audit record")
    return problems


# Every command that closes a human-task row as completed audits it under one of these actions.
CLOSING_ACTIONS = ("task.complete", "task.vote", "task.added_signer_done", "task.delegate_done", "task.send_back",
                   "task.escalate", "admin.approve", "admin.skip")


def _completed_without_audit(session: Session) -> int:
    completed = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.state == ht.COMPLETED))}
    audited = set(session.scalars(select(AuditRecord.task_id).where(AuditRecord.action.in_(CLOSING_ACTIONS))))
    # A delegate's submission is kept as its own completed row (a copy of the owner's task); its audit
    # record `task.delegate_done` names the owner's task, which shares the Spiff task.
    delegated = {(instance_id, spiff_id) for instance_id, spiff_id in session.execute(
        select(HumanTask.instance_id, HumanTask.spiff_task_id).join(AuditRecord, AuditRecord.task_id == HumanTask.id)
        .where(AuditRecord.action == "task.delegate_done"))}
    return sum(1 for task_id, row in completed.items() if task_id not in audited and not (
        row.outcome == "delegate_done" and (row.instance_id, row.spiff_task_id) in delegated))
