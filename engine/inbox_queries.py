"""Inbox queries for the staff pages: tabs, filters, sorting, pagination and counts.

Task tabs (待办, 已办) are built on `inbox.visible_tasks`, the one authorization filter. 我发起的 lists
instances the subject initiated (`initiated_instances`); 抄送我的 lists instances with a CC grant for
the subject (the grants table arrives with the approval-operations work; until then the tab is empty).
Every list is one paged SELECT plus one COUNT, so cost does not grow with the number of open tasks
beyond what the indexes give (see bench/inbox_page.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from engine import models
from engine.context import EngineContext
from engine.inbox import visible_tasks
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.subject import Subject
from engine.urgency import LEVELS, is_urged, level_is, level_of

TABS = ("todo", "done", "mine", "cc")
SORTS = ("received", "due", "urgency", "title", "process")
MAX_PAGE_SIZE = 100
# Totals are counted up to this many (badges show "1000+"): an exact count of 10,000 visible tasks
# costs more than the whole page (bench/inbox_page.py); nobody pages through more than 1,000 tasks.
COUNT_CAP = 1000


@dataclass(frozen=True)
class InboxQuery:
    """What the user asked the inbox for (all optional except the tab)."""

    tab: str = "todo"
    process_key: str | None = None
    institution: str | None = None
    urgency: int | None = None
    overdue: bool = False
    received_from: date | None = None
    received_to: date | None = None
    search: str = ""
    sort: str = "received"
    descending: bool = True
    page: int = 1
    page_size: int = 20

    def normalized(self) -> InboxQuery:
        return replace(self, tab=self.tab if self.tab in TABS else "todo",
                       sort=self.sort if self.sort in SORTS else "received",
                       urgency=self.urgency if self.urgency in LEVELS else None,
                       page=max(1, self.page), page_size=min(max(1, self.page_size), MAX_PAGE_SIZE),
                       search=self.search.strip()[:100])


@dataclass(frozen=True)
class InboxRow:
    """One line of a list: a task (待办/已办) or an instance (我发起的/抄送我的)."""

    instance_id: str
    task_id: str | None
    title: str
    process_key: str
    process_name: str
    step: str
    applicant: str
    institution: str
    urgency: int  # level 0..2 (engine/urgency.py)
    due_at: datetime | None
    overdue: bool
    received_at: datetime
    state: str
    completed_at: datetime | None = None
    outcome: str | None = None
    urged: bool = False  # 催办: someone asked for it to be handled soon


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    query: InboxQuery
    counts: dict[str, int] = field(default_factory=dict)
    # Filter choices: deployed processes (key, name) and the subject's institutions.
    facets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        """The total is at least COUNT_CAP (shown as "1000+")."""
        return self.total >= COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages or (self.capped and len(self.rows) == self.query.page_size)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes; PostgreSQL aware ones. Compare them as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def initiated_instances(subject: Subject) -> Select[tuple[Instance]]:
    """Instances the subject started (their own applications are always theirs to follow)."""
    return select(Instance).where(Instance.initiator == subject.username)


def cc_instances(subject: Subject) -> Select[tuple[Instance]] | None:
    """Instances carbon-copied to the subject, or None while the engine has no grants table."""
    grant = getattr(models, "Grant", None)
    if grant is None:
        return None
    return select(Instance).where(Instance.id.in_(
        select(grant.instance_id).where(grant.grantee == subject.username, grant.kind == "cc",
                                        grant.revoked_at.is_(None))))


def _task_query(subject: Subject, q: InboxQuery, now: datetime) -> Select[Any]:
    """Ids of the tasks in the tab after filters (only human_tasks columns unless searching)."""
    state = ht.OPEN if q.tab == "todo" else ht.COMPLETED
    query = visible_tasks(subject, state=state).with_only_columns(HumanTask.id)
    if q.process_key:
        query = query.where(HumanTask.process_key == q.process_key)
    if q.institution:
        query = query.where(HumanTask.institution == q.institution)
    if q.urgency is not None:
        query = query.where(level_is(HumanTask.priority, q.urgency))
    if q.overdue:
        query = query.where(HumanTask.due_at < (now if state == ht.OPEN else HumanTask.completed_at))
    if q.received_from:
        query = query.where(HumanTask.created_at >= _day_start(q.received_from))
    if q.received_to:
        query = query.where(HumanTask.created_at < _day_start(q.received_to + timedelta(days=1)))
    if q.search:
        like = f"%{q.search}%"
        query = query.join(Instance, Instance.id == HumanTask.instance_id).where(or_(
            HumanTask.title.ilike(like), HumanTask.name.ilike(like), Instance.initiator.ilike(like),
            Instance.business_key.ilike(like)))
    return query


def _count(session: Session, query: Select[Any]) -> int:
    """Rows of `query`, counted up to COUNT_CAP."""
    return session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP).subquery())) or 0


def _filtered(q: InboxQuery) -> bool:
    return bool(q.process_key or q.institution or q.urgency is not None or q.overdue or q.received_from
                or q.received_to or q.search)


def _task_order(q: InboxQuery) -> list[Any]:
    column = {"received": HumanTask.created_at if q.tab == "todo" else HumanTask.completed_at,
              "due": HumanTask.due_at, "urgency": HumanTask.priority, "title": HumanTask.title,
              "process": HumanTask.process_key}[q.sort]
    primary = column.desc() if q.descending else column.asc()
    # NULL due dates sort last either way (they are "no deadline").
    if q.sort == "due":
        primary = primary.nulls_last()
    return [primary, HumanTask.id]


def _page_ids(session: Session, q: InboxQuery, ids: Select[Any]) -> tuple[list[str], int | None]:
    """One page of task ids, and for 待办 the tab's total counted by the same statement.

    To sort, the 待办 page already reads every visible open task (the id set drives the query:
    `inbox.visible_tasks`), so `count(*) OVER ()` costs nothing more, where a separate capped COUNT probed
    up to COUNT_CAP of those tasks a second time (bench/inbox_scale.py). Not for 已办: its page walks
    ix_human_tasks_completed_by and stops after one page, while a window count would read every task the
    subject ever completed. None when the page is empty (past the end) or the tab is 已办.
    """
    paged = ids.order_by(*_task_order(q)).limit(q.page_size).offset((q.page - 1) * q.page_size)
    if q.tab != "todo":
        return list(session.scalars(paged)), None
    found = session.execute(paged.add_columns(func.count().over())).all()
    return [task_id for task_id, _ in found], min(found[0][1], COUNT_CAP) if found else None


def _task_rows(session: Session, subject: Subject, q: InboxQuery, now: datetime
               ) -> tuple[list[InboxRow], int]:
    """Deferred join: page the ids on human_tasks alone, then read the columns of those rows only."""
    ids = _task_query(subject, q, now)
    page_ids, total = _page_ids(session, q, ids)
    if total is None:
        total = _count(session, ids)
    if not page_ids:
        return [], total
    details = (select(HumanTask.id, HumanTask.instance_id, HumanTask.title, HumanTask.process_key,
                      Definition.name.label("process_name"), HumanTask.name.label("step_name"),
                      Instance.initiator, HumanTask.institution, HumanTask.priority, HumanTask.due_at,
                      HumanTask.created_at, HumanTask.state, HumanTask.completed_at, HumanTask.outcome)
               .join(Instance, Instance.id == HumanTask.instance_id)
               .join(Definition, Definition.id == Instance.definition_id)
               .where(HumanTask.id.in_(page_ids)))
    by_id = {r.id: r for r in session.execute(details)}
    rows = []
    for task_id in page_ids:
        r = by_id[task_id]
        due = _utc(r.due_at)
        done_at = _utc(r.completed_at)
        overdue = bool(due and (due < now if r.state == ht.OPEN else done_at and due < done_at))
        rows.append(InboxRow(r.instance_id, r.id, r.title, r.process_key, r.process_name or r.process_key,
                             r.step_name, r.initiator, r.institution, level_of(r.priority), due, overdue,
                             _utc(r.created_at), r.state, done_at, r.outcome, is_urged(r.priority)))
    return rows, total


def _instance_query(subject: Subject, q: InboxQuery, now: datetime) -> Select[Any] | None:
    base = initiated_instances(subject) if q.tab == "mine" else cc_instances(subject)
    if base is None:
        return None
    query = base.join(Definition, Definition.id == Instance.definition_id).add_columns(Definition.name)
    if q.process_key:
        query = query.where(Instance.process_key == q.process_key)
    if q.institution:
        query = query.where(Instance.institution == q.institution)
    if q.received_from:
        query = query.where(Instance.created_at >= _day_start(q.received_from))
    if q.received_to:
        query = query.where(Instance.created_at < _day_start(q.received_to + timedelta(days=1)))
    if q.search:
        like = f"%{q.search}%"
        query = query.where(or_(Instance.title.ilike(like), Instance.business_key.ilike(like)))
    open_task = select(HumanTask.id).where(HumanTask.instance_id == Instance.id, HumanTask.state == ht.OPEN)
    if q.overdue:
        query = query.where(open_task.where(HumanTask.due_at < now).exists())
    if q.urgency is not None:
        query = query.where(open_task.where(level_is(HumanTask.priority, q.urgency)).exists())
    return query


def _instance_rows(session: Session, subject: Subject, q: InboxQuery, now: datetime
                   ) -> tuple[list[InboxRow], int]:
    base = _instance_query(subject, q, now)
    if base is None:
        return [], 0
    total = _count(session, base.order_by(None))
    column = {"received": Instance.created_at, "title": Instance.title, "process": Instance.process_key,
              "due": Instance.created_at, "urgency": Instance.created_at}[q.sort]
    page = base.order_by(column.desc() if q.descending else column.asc(), Instance.id) \
        .limit(q.page_size).offset((q.page - 1) * q.page_size)
    found = session.execute(page).all()
    open_tasks: dict[str, list[HumanTask]] = {}
    if found:
        ids = [row[0].id for row in found]
        current = select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.state == ht.OPEN)
        for task in session.scalars(current.order_by(HumanTask.seq)):
            open_tasks.setdefault(task.instance_id, []).append(task)
    rows = []
    for instance, process_name in found:
        tasks = open_tasks.get(instance.id, [])
        priority = max((t.priority for t in tasks), default=0)
        dues = [d for d in (_utc(t.due_at) for t in tasks) if d]
        due = min(dues) if dues else None
        rows.append(InboxRow(instance.id, None, instance.title, instance.process_key, process_name,
                             "、".join(dict.fromkeys(t.name for t in tasks)), instance.initiator,
                             instance.institution, level_of(priority), due,
                             bool(due and due < now), _utc(instance.created_at), instance.status,
                             _utc(instance.ended_at), urged=is_urged(priority)))
    return rows, total


def _counts(session: Session, subject: Subject, todo: int | None = None) -> dict[str, int]:
    if todo is None:
        todo = _count(session, visible_tasks(subject).with_only_columns(HumanTask.id))
    counts = {"todo": todo}
    cc = cc_instances(subject)
    counts["cc"] = 0
    if cc is not None:
        counts["cc"] = _count(session, cc.with_only_columns(Instance.id))
    # Notifications arrive with the approval-operations work (engine.models.Notification).
    notification = getattr(models, "Notification", None)
    counts["notifications"] = 0
    if notification is not None:
        counts["notifications"] = session.scalar(select(func.count()).where(
            notification.recipient == subject.username, notification.read_at.is_(None))) or 0
    return counts


def inbox_page(ctx: EngineContext, subject: Subject, query: InboxQuery | None = None) -> InboxPage:
    """One page of one inbox tab for the subject, with the total and the badge counts (`inbox_counts`)."""
    q = (query or InboxQuery()).normalized()
    now = ctx.clock.now()

    def page(session: Session) -> InboxPage:
        if q.tab in ("todo", "done"):
            rows, total = _task_rows(session, subject, q, now)
        else:
            rows, total = _instance_rows(session, subject, q, now)
        # The unfiltered 待办 total is the badge number: count once.
        todo = total if q.tab == "todo" and not _filtered(q) else None
        return InboxPage(rows, total, q, _counts(session, subject, todo), _facets(session, subject))

    return ctx.db.read(page)


def inbox_counts(ctx: EngineContext, subject: Subject) -> dict[str, int]:
    """Badge numbers for the navigation: open tasks (待办), CC'd instances, unread notifications."""
    return ctx.db.read(lambda session: _counts(session, subject))


def _facets(session: Session, subject: Subject) -> dict[str, list[tuple[str, str]]]:
    latest = select(Definition.process_key, func.max(Definition.version).label("v")) \
        .group_by(Definition.process_key).subquery()
    processes = session.execute(select(Definition.process_key, Definition.name).join(
        latest, and_(latest.c.process_key == Definition.process_key, latest.c.v == Definition.version))
        .order_by(Definition.process_key)).all()
    return {"processes": [(k, n) for k, n in processes],
            "institutions": [(i, i) for i in sorted(subject.roles)]}


def inbox_facets(ctx: EngineContext, subject: Subject) -> dict[str, list[tuple[str, str]]]:
    """Filter choices: deployed processes (key, name) and the subject's institutions."""
    return ctx.db.read(lambda session: _facets(session, subject))

