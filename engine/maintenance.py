"""Operational commands: migrations and audit-chain verification."""
from __future__ import annotations

from engine import audit
from engine.context import EngineContext
from engine.migrate import upgrade


def migrate_database(ctx: EngineContext) -> None:
    """Apply all Alembic migrations to the context's database."""
    upgrade(ctx.settings.effective_database_url)


def verify_audit_chain(ctx: EngineContext) -> audit.ChainReport:
    """Recompute the audit hash chain; a report names the first edited or deleted record."""
    with ctx.db.unit_of_work() as session:
        return audit.verify_chain(session)
