"""Messages: every delivery (with its idempotency key) and the catch events currently waiting."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow

BUFFERED = "buffered"
DELIVERED = "delivered"
STARTED = "started"
EXPIRED = "expired"


class MessageRecord(Base):
    """One delivery: delivered to an instance, started instances, or buffered until a catch waits."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_match", "status", "name", "correlation_key"),
        UniqueConstraint("idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=BUFFERED)
    instance_ids: Mapped[list] = mapped_column(default=list)
    sender: Mapped[str] = mapped_column(String(100), default="system")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class MessageWait(Base):
    """A message an instance waits on at one catch (an event-based gateway waits on several), keyed for matching."""

    __tablename__ = "message_waits"
    __table_args__ = (
        Index("ix_message_waits_match", "message_name", "correlation_key"),
        UniqueConstraint("instance_id", "task_id", "message_name"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(100))
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
