"""Portal announcements: title, department, publish date, link, audience by department and/or role."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow


class Announcement(Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_published", "published_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")  # publishing department (display)
    published_on: Mapped[date]
    link: Mapped[str] = mapped_column(String(500), default="")
    institution: Mapped[str] = mapped_column(String(100), default="*")
    audience_departments: Mapped[list] = mapped_column(default=list)  # department codes; [] = everyone
    audience_roles: Mapped[list] = mapped_column(default=list)  # role names; [] = everyone
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
