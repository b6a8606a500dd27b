"""Human tasks materialised from workflow state, so the inbox never deserializes a workflow."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow

OPEN = "open"
COMPLETED = "completed"
CANCELLED = "cancelled"
WAITING = "waiting"  # on hold while a 加签-before signer acts (engine/signing.py)


class HumanTask(Base):
    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_state_institution", "state", "institution", "created_at"),
        Index("ix_human_tasks_assignee_state", "assignee", "state", "created_at"),
        Index("ix_human_tasks_instance_state", "instance_id", "state"),
        Index("ix_human_tasks_completed_by", "completed_by", "completed_at"),
        # Covering indexes of the inbox (bench/inbox_page.py): walk open tasks in display order and
        # test visibility (assignee, id) without reading rows.
        Index("ix_human_tasks_inbox_received", "state", "created_at", "assignee", "id"),
        Index("ix_human_tasks_inbox_due", "state", "due_at", "assignee", "id"),
        Index("ix_human_tasks_inbox_assignee", "state", "assignee", "id"),
        # The inbox probes each id of the subject's candidate set (inbox.visible_tasks): a partial index
        # over open tasks only (~1/10 of the table at 1.1 M rows, bench/inbox_scale.py) answers the probe
        # with its filter (assignee) and the default/due sort keys without the table once vacuumed.
        # Matched only when the query states `state = 'open'` literally (inbox.OPEN_STATE).
        Index("ix_human_tasks_open", "id", postgresql_include=["assignee", "created_at", "due_at", "priority"],
              postgresql_where=text("state = 'open'"), sqlite_where=text("state = 'open'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    # Order of creation within the instance (timestamps tie under a fixed clock or fast steps).
    seq: Mapped[int] = mapped_column(default=0)
    node_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), default="")
    form_key: Mapped[str | None] = mapped_column(String(100))
    candidate_roles: Mapped[list] = mapped_column(default=list)
    candidate_users: Mapped[list] = mapped_column(default=list)
    institution: Mapped[str] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default=OPEN)
    due_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[dict | None]


class TaskCandidate(Base):
    """One row per (open task, candidate role or user): the inbox joins on an index, not on JSON."""

    __tablename__ = "task_candidates"
    __table_args__ = (
        # Covering for the inbox's candidate set (inbox.candidate_filter): no row reads.
        Index("ix_task_candidates_visible", "kind", "value", "institution", "task_id"),
    )

    task_id: Mapped[str] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # "role" | "user"
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
    institution: Mapped[str] = mapped_column(String(100))
