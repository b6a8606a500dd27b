"""SLA state of a human task: the overdue flag and what escalation did (one row once overdue)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base


class TaskSla(Base):
    __tablename__ = "task_sla"
    __table_args__ = (Index("ix_task_sla_overdue", "overdue", "overdue_at"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36))
    overdue: Mapped[bool] = mapped_column(default=True)
    overdue_at: Mapped[datetime]
    escalation: Mapped[str | None] = mapped_column(String(100))
    escalated_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(String(300))
