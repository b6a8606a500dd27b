"""Tables of the approval operations: sign plans (countersign / add signer), grants, comments, attachments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow

# sign plan status / signer state
OPEN = "open"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
PENDING = "pending"  # signer not yet asked (sequential order)
REMOVED = "removed"  # 减签
VOTE = "vote"  # a signer whose outcome counts for the plan's rule
BEFORE = "before"  # 加签 (前): the owner's task waits until this signer has acted


class SignPlan(Base):
    """A collective decision on one READY Spiff user task (countersign, or a step with added signers).

    The Spiff task stays READY while votes are collected here; it is completed once the rule decides.
    """

    __tablename__ = "sign_plans"
    __table_args__ = (Index("ix_sign_plans_instance_status", "instance_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    node_id: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(20))  # all | any | ratio | sequential
    ratio_num: Mapped[int] = mapped_column(default=1)
    ratio_den: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    outcome: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class Signer(Base):
    """One person's part in a sign plan (vote) or a 加签-before hold on another task."""

    __tablename__ = "signers"
    __table_args__ = (
        Index("ix_signers_task", "human_task_id"),
        Index("ix_signers_instance_state", "instance_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("sign_plans.id"))
    kind: Mapped[str] = mapped_column(String(10), default=VOTE)
    username: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    human_task_id: Mapped[str | None] = mapped_column(String(36))
    waiting_task_id: Mapped[str | None] = mapped_column(String(36))  # BEFORE: the task on hold
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    outcome: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[dict | None]
    added_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acted_at: Mapped[datetime | None]


class Grant(Base):
    """Rights given to a person on an instance or task: `cc` (read-only) or `delegate` (act, then return)."""

    __tablename__ = "grants"
    __table_args__ = (
        Index("ix_grants_grantee", "grantee", "kind", "revoked_at"),
        Index("ix_grants_instance", "instance_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    grantee: Mapped[str] = mapped_column(String(100))
    granted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_instance", "instance_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """An uploaded file: stored under var/uploads (outside any web root) by id; sha256 of the content."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_instance", "instance_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
