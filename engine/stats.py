"""Statistics for the staff pages: counts by process/state/institution, step durations, overdue counts.

Scoped to the institutions in which the subject holds a role (a domain is an institution, DESIGN §4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.subject import Subject


@dataclass(frozen=True)
class StepDuration:
    process_key: str
    node_id: str
    step: str
    completed: int
    average_hours: float
    overdue_open: int
    completed_late: int


@dataclass(frozen=True)
class Statistics:
    institutions: list[str]
    process_names: dict[str, str]
    # (process_key, status) -> count, (institution, status) -> count
    by_process: dict[tuple[str, str], int] = field(default_factory=dict)
    by_institution: dict[tuple[str, str], int] = field(default_factory=dict)
    steps: list[StepDuration] = field(default_factory=list)
    overdue_open: int = 0

    def statuses(self) -> list[str]:
        return sorted({s for _, s in self.by_process} | {s for _, s in self.by_institution})


def _seconds(session: Session, start: Any, end: Any) -> Any:
    """end - start in seconds, per dialect (no portable interval arithmetic in SQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _window(query: Any, column: Any, since: date | None, until: date | None) -> Any:
    if since:
        query = query.where(column >= datetime.combine(since, time.min, tzinfo=UTC))
    if until:
        query = query.where(column < datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC))
    return query


def _steps(session: Session, institutions: list[str], now: datetime, since: date | None,
           until: date | None) -> list[StepDuration]:
    done = _window(select(
        HumanTask.process_key, HumanTask.node_id, func.min(HumanTask.name), func.count(),
        func.avg(cast(_seconds(session, HumanTask.created_at, HumanTask.completed_at), Float)),
        func.sum(case((HumanTask.due_at.is_not(None) & (HumanTask.completed_at > HumanTask.due_at), 1),
                      else_=0)),
    ).where(HumanTask.state == ht.COMPLETED, HumanTask.institution.in_(institutions)),
        HumanTask.completed_at, since, until).group_by(HumanTask.process_key, HumanTask.node_id)
    late_open = dict(((k, n), c) for k, n, c in session.execute(
        select(HumanTask.process_key, HumanTask.node_id, func.count()).where(
            HumanTask.state == ht.OPEN, HumanTask.institution.in_(institutions), HumanTask.due_at < now)
        .group_by(HumanTask.process_key, HumanTask.node_id)))
    rows = [StepDuration(k, n, name, count, round((avg or 0) / 3600.0, 2), late_open.pop((k, n), 0),
                         int(late or 0)) for k, n, name, count, avg, late in session.execute(done)]
    names = dict(((k, n), name) for k, n, name in session.execute(
        select(HumanTask.process_key, HumanTask.node_id, func.min(HumanTask.name))
        .where(HumanTask.institution.in_(institutions)).group_by(HumanTask.process_key, HumanTask.node_id)))
    rows += [StepDuration(k, n, names.get((k, n), n), 0, 0.0, c, 0) for (k, n), c in late_open.items()]
    return sorted(rows, key=lambda s: (s.process_key, s.node_id))


def statistics(ctx: EngineContext, subject: Subject, *, institution: str | None = None,
               since: date | None = None, until: date | None = None) -> Statistics:
    """Counts and durations over the subject's institutions (or one of them), optionally a date window."""
    institutions = sorted(i for i, roles in subject.roles.items() if roles)
    if institution:
        institutions = [i for i in institutions if i == institution]
    if not institutions:
        return Statistics([], {})
    now = ctx.clock.now()
    with ctx.db.unit_of_work() as session:
        scoped = _window(select(Instance.process_key, Instance.institution, Instance.status, func.count())
                         .where(Instance.institution.in_(institutions)), Instance.created_at, since, until) \
            .group_by(Instance.process_key, Instance.institution, Instance.status)
        by_process: dict[tuple[str, str], int] = {}
        by_institution: dict[tuple[str, str], int] = {}
        for key, inst, status, count in session.execute(scoped):
            by_process[(key, status)] = by_process.get((key, status), 0) + count
            by_institution[(inst, status)] = by_institution.get((inst, status), 0) + count
        names = dict(session.execute(select(Definition.process_key, func.max(Definition.name))
                                     .group_by(Definition.process_key)).all())
        steps = _steps(session, institutions, now, since, until)
    return Statistics(institutions, names, by_process, by_institution, steps,
                      sum(s.overdue_open for s in steps))


def statistics_csv_rows(stats: Statistics) -> list[list[str]]:
    """Flat rows for CSV export: section, key, status/step, value columns."""
    rows = [["section", "key", "item", "count", "average_hours", "overdue_open", "completed_late"]]
    rows += [["process", k, s, str(c), "", "", ""] for (k, s), c in sorted(stats.by_process.items())]
    rows += [["institution", i, s, str(c), "", "", ""] for (i, s), c in sorted(stats.by_institution.items())]
    rows += [["step", s.process_key, s.node_id, str(s.completed), f"{s.average_hours:.2f}",
              str(s.overdue_open), str(s.completed_late)] for s in stats.steps]
    return rows
