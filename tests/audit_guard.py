"""Lift the database's append-only guard on the audit tables, for tamper tests and test cleanup.

The triggers come from the migrations; this reads them back from the catalog (SQLite) or disables
them (PostgreSQL) and restores them on exit, so tests never carry a second copy of their SQL.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

AUDIT_TABLES = ("audit_log", "audit_head")


@contextmanager
def audit_guard_lifted(db: Connection | Session) -> Iterator[None]:
    """Within the caller's transaction: audit rows may be updated and deleted until the block ends.

    Not restored if the block raises: the caller's transaction then rolls back, and the DDL with it.
    """
    dialect = db.get_bind().dialect if isinstance(db, Session) else db.dialect
    if dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            db.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield
        for table in AUDIT_TABLES:
            db.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    triggers = db.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_head')"
    )).all()
    assert triggers, "the migrations should have created the audit triggers"
    for name, _sql in triggers:
        db.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        db.execute(text(sql))
