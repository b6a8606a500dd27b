"""Portal interface (seed 004): pending todos by employee number and a small announcement module."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import FieldError, NotFound, ValidationFailed
from engine.identity.policy import authorizer, build_subject, require
from engine.inbox import visible_tasks
from engine.models import Announcement, Department, HumanTask, User
from engine.subject import Subject


@dataclass(frozen=True)
class PortalTodo:
    task_id: str
    title: str
    process_key: str
    process_title: str
    current_step: str
    urgency: str  # "urgent" | "overdue" | "normal"
    received_at: datetime
    due_at: datetime | None
    link: str  # deep link through the SSO hand-off: /api/auth/sso/open?next=/tasks/<id>

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnnouncementView:
    id: str
    title: str
    department: str
    published_on: date
    link: str
    institution: str
    audience_departments: list[str]
    audience_roles: list[str]


def _user(session: Session, employee_no: str) -> User:
    user = session.scalar(select(User).where(User.employee_no == employee_no))
    if user is None or not user.active:
        raise NotFound("工号不存在 (unknown employee number)", employee_no=employee_no)
    return user


def deep_link(task_id: str) -> str:
    """Opens the task; without a session the platform asks the portal's auth centre to sign the user in."""
    return f"/api/auth/sso/open?next={quote('/tasks/' + task_id, safe='/')}"


def portal_todos(ctx: EngineContext, employee_no: str, *, limit: int = 50) -> list[PortalTodo]:
    """Open tasks the user behind an employee number may act on, oldest due first."""
    authorizer(ctx)
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        user = _user(session, employee_no)
        subject = build_subject(ctx, session, user.username, user.display_name)
        rows = session.scalars(visible_tasks(subject).order_by(HumanTask.created_at.desc(), HumanTask.id)
                               .limit(limit)).all()
        todos = []
        for t in rows:
            due = t.due_at if t.due_at is None or t.due_at.tzinfo else t.due_at.replace(tzinfo=now.tzinfo)
            urgency = "urgent" if t.priority >= 80 else "overdue" if due is not None and due < now else "normal"
            todos.append(PortalTodo(t.id, t.title, t.process_key, t.process_key,
                                    t.name, urgency, t.created_at, t.due_at, deep_link(t.id)))
        return todos


def create_announcement(ctx: EngineContext, subject: Subject, *, title: str, department: str = "",
                        published_on: date | None = None, link: str = "", institution: str = "*",
                        audience_departments: list[str] | None = None,
                        audience_roles: list[str] | None = None) -> AnnouncementView:
    """Publish an announcement (``announcement:admin`` or ``security:admin`` on the institution)."""
    if not (title or "").strip():
        raise ValidationFailed("标题必填 (title is required)", [FieldError("/title", "标题必填", "required")])
    require(ctx, subject, institution, "security", "admin", command="create_announcement")

    def command(session: Session) -> AnnouncementView:
        row = Announcement(title=title.strip(), department=department, link=link, institution=institution,
                           published_on=published_on or ctx.clock.now().date(),
                           audience_departments=list(audience_departments or []),
                           audience_roles=list(audience_roles or []), created_by=subject.username,
                           created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        audit.append(session, actor=subject.username, action="announcement.create", at=ctx.clock.now(),
                     details={"announcement_id": row.id, "title": row.title})
        return _view(row)

    return ctx.db.run(command)


def _view(a: Announcement) -> AnnouncementView:
    return AnnouncementView(a.id, a.title, a.department, a.published_on, a.link, a.institution,
                            list(a.audience_departments or []), list(a.audience_roles or []))


def announcements_for(ctx: EngineContext, employee_no: str, *, limit: int = 20) -> list[AnnouncementView]:
    """Announcements whose audience (institution, departments, roles) includes this employee, newest first."""
    authorizer(ctx)
    with ctx.db.unit_of_work() as session:
        user = _user(session, employee_no)
        subject = build_subject(ctx, session, user.username, user.display_name)
        dept = session.get(Department, user.department_id) if user.department_id else None
        roles = set().union(*subject.roles.values()) if subject.roles else set()
        rows = session.scalars(select(Announcement).order_by(Announcement.published_on.desc(),
                                                             Announcement.created_at.desc())).all()
        out = []
        for a in rows:
            if a.published_on > ctx.clock.now().date():
                continue
            if a.institution not in ("*", user.institution_code):
                continue
            if a.audience_departments and (dept is None or dept.code not in a.audience_departments):
                continue
            if a.audience_roles and not roles & set(a.audience_roles):
                continue
            out.append(_view(a))
            if len(out) >= limit:
                break
        return out
