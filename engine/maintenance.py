"""Operational commands: migrations and audit-chain verification."""
from __future__ import annotations

from engine import audit
from engine.context import EngineContext
from engine.identity.policy import seed_policy
from engine.migrate import upgrade


def migrate_database(ctx: EngineContext) -> None:
    """Apply all Alembic migrations, then seed the base Casbin policy (policies/seed_policy.csv)."""
    upgrade(ctx.settings.effective_database_url)
    seed_policy(ctx)


def verify_audit_chain(ctx: EngineContext) -> audit.ChainReport:
    """Recompute the audit hash chain; a report names the first edited or deleted record."""
    with ctx.db.unit_of_work() as session:
        return audit.verify_chain(session)
