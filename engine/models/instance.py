"""Process instances: workflow state plus an optimistic-lock version column."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow

RUNNING = "running"
COMPLETED = "completed"
CANCELLED = "cancelled"
SUSPENDED = "suspended"
ERROR = "error"


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("process_key", "idempotency_key"),
        Index("ix_instances_business_key", "business_key"),
        Index("ix_instances_status_institution", "status", "institution"),
        Index("ix_instances_initiator", "initiator", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(ForeignKey("definitions.id"))
    process_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)
    business_key: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    institution: Mapped[str] = mapped_column(String(100))
    initiator: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default=RUNNING)
    state: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}
