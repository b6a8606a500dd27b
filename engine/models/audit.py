"""Append-only, hash-chained audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, utcnow


class AuditRecord(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_instance", "instance_id", "seq"),
        Index("ix_audit_log_actor", "actor", "at"),
    )

    # seq is dense and unique: two writers racing for the same predecessor cannot both commit.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    payload_digest: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last record (one row, id 1), so deleting the newest records is detected too.

    The database refuses UPDATE/DELETE on ``audit_log`` and deleting or rewinding this row (triggers of
    migration a7c2e9d41b06). A later SQLite batch migration of either table recreates it and drops the
    triggers: recreate them there.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
