"""Designer working copies: process and form drafts (deployed versions stay immutable in `definitions`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, utcnow


class ProcessDraft(Base):
    """The BPMN a process administrator is editing, one per process key (saved, not deployed)."""

    __tablename__ = "designer_process_drafts"

    process_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    xml: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormDraft(Base):
    """A form edited in the designer; it overrides forms/<key>.schema.json until deploy snapshots it."""

    __tablename__ = "designer_form_drafts"

    form_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    schema: Mapped[dict]
    ui: Mapped[dict]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
