"""Operational commands: migrations and audit-chain verification."""
from __future__ import annotations

from sqlalchemy import select

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
    exactly the READY user steps of its stored workflow; every completed task has its audit record.
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
        completed = set(session.scalars(select(HumanTask.id).where(HumanTask.state == ht.COMPLETED)).all())
        audited = set(session.scalars(select(AuditRecord.task_id).where(AuditRecord.action == "task.complete")).all())
        if completed - audited:
            problems.append(f"{len(completed - audited)} completed tasks without an audit record")
    return problems
