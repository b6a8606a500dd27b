"""Deployed process definitions: immutable, one row per (key, version)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow


class Definition(Base):
    __tablename__ = "definitions"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        UniqueConstraint("process_key", "content_hash"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The source files as deployed ({file name: text}) and the forms they reference ({key: {schema, ui}}).
    files: Mapped[dict] = mapped_column(deferred=True)
    forms: Mapped[dict]
    attributes: Mapped[dict]
    steps: Mapped[dict]
    # Deferred: commands use the in-process spec cache; the text is read only on a cache miss.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(String(500), default="")
