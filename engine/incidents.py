"""Incidents: list, retry one or many, bulk retry by connector and time, skip with a reason (audited)."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.models import Incident, Instance, Job
from engine.models import incident as inc
from engine.models import instance as inst
from engine.models import job as jobs

log = logging.getLogger("engine.incidents")


@dataclass(frozen=True)
class IncidentView:
    id: str
    job_id: str
    kind: str
    connector: str | None
    instance_id: str | None
    node_id: str | None
    error: str
    attempts: int
    last_response: dict[str, Any] | None
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    reason: str | None

    @classmethod
    def of(cls, r: Incident) -> IncidentView:
        return cls(r.id, r.job_id, r.kind, r.connector, r.instance_id, r.node_id, r.error, r.attempts,
                   r.last_response, r.status, r.created_at, r.resolved_at, r.resolved_by, r.reason)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_incident(session: Session, job: Job, error: str, response: dict[str, Any] | None,
                  now: datetime) -> Incident:
    """Record a job that failed for good (called by the worker inside its transaction)."""
    payload = job.payload or {}
    row = Incident(job_id=job.id, kind=job.kind, connector=payload.get("connector"), instance_id=job.instance_id,
                   task_id=payload.get("task_id"), node_id=payload.get("node_id"), error=error,
                   attempts=job.attempts, last_response=response, created_at=now)
    session.add(row)
    session.flush()
    log.warning("incident", extra={"incident_id": row.id, "job_id": job.id, "kind": job.kind})
    return row


def list_incidents(ctx: EngineContext, *, status: str | None = inc.OPEN, connector: str | None = None,
                   since: datetime | None = None, instance_id: str | None = None,
                   limit: int = 100) -> list[IncidentView]:
    """Incidents, newest first, filtered by status, connector, creation time and instance."""
    with ctx.db.unit_of_work() as session:
        query = select(Incident).order_by(Incident.created_at.desc()).limit(limit)
        if status:
            query = query.where(Incident.status == status)
        if connector:
            query = query.where(Incident.connector == connector)
        if since:
            query = query.where(Incident.created_at >= since)
        if instance_id:
            query = query.where(Incident.instance_id == instance_id)
        return [IncidentView.of(r) for r in session.scalars(query).all()]


def _open(session: Session, incident_id: str) -> Incident:
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound("异常不存在 (incident not found)", incident_id=incident_id)
    if row.status != inc.OPEN:
        raise Conflict("异常已处理 (incident already resolved)", incident_id=incident_id, status=row.status)
    return row


def _resolve(ctx: EngineContext, session: Session, row: Incident, status: str, actor: str, reason: str) -> None:
    row.status, row.resolved_at, row.resolved_by, row.reason = status, ctx.clock.now(), actor, reason
    session.flush()
    if row.instance_id:
        remaining = session.scalar(select(Incident.id).where(Incident.instance_id == row.instance_id,
                                                             Incident.status == inc.OPEN).limit(1))
        instance = session.get(Instance, row.instance_id)
        if remaining is None and instance is not None and instance.status == inst.ERROR:
            instance.status = inst.RUNNING
    audit.append(session, actor=actor, action=f"incident.{'retry' if status == inc.RETRIED else 'skip'}",
                 at=ctx.clock.now(), instance_id=row.instance_id, reason=reason,
                 details={"incident_id": row.id, "job_id": row.job_id, "kind": row.kind, "connector": row.connector})


def _retry_in(ctx: EngineContext, session: Session, row: Incident, actor: str, reason: str) -> None:
    job = session.get(Job, row.job_id)
    job.status, job.attempts, job.run_at, job.finished_at = jobs.PENDING, 0, ctx.clock.now(), None
    _resolve(ctx, session, row, inc.RETRIED, actor, reason)


def retry_incident(ctx: EngineContext, incident_id: str, *, actor: str, reason: str = "") -> IncidentView:
    """Run the failed job again from attempt 1 (a new failure opens a new incident).

    Raises:
        NotFound, Conflict (already resolved).
    """
    def command(session: Session) -> IncidentView:
        row = _open(session, incident_id)
        _retry_in(ctx, session, row, actor, reason)
        return IncidentView.of(row)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def retry_incidents(ctx: EngineContext, *, actor: str, reason: str = "", ids: list[str] | None = None,
                    connector: str | None = None, since: datetime | None = None, limit: int = 1000) -> int:
    """Bulk retry: the given ids, or every open incident of `connector` created since `since`.

    Returns:
        The number of incidents retried (one transaction, one audit record each).
    """
    def command(session: Session) -> int:
        query = select(Incident).where(Incident.status == inc.OPEN).order_by(Incident.created_at).limit(limit)
        if ids is not None:
            query = query.where(Incident.id.in_(ids))
        if connector:
            query = query.where(Incident.connector == connector)
        if since:
            query = query.where(Incident.created_at >= since)
        rows = session.scalars(query).all()
        for row in rows:
            _retry_in(ctx, session, row, actor, reason)
        return len(rows)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def skip_incident(ctx: EngineContext, incident_id: str, *, actor: str, reason: str,
                  result: Any = None) -> IncidentView:
    """Give up on the failed work with a reason. A service task continues with `result`
    (default `{"skipped": True, "reason": …}`) in its result variable; other jobs are cancelled.

    Raises:
        ValidationFailed: no reason given. NotFound, Conflict.
    """
    from engine.service_tasks import complete_in_session

    if not reason.strip():
        raise ValidationFailed("请填写跳过原因 (a reason is required)", [FieldError("/reason", "required")])

    def command(session: Session) -> IncidentView:
        row = _open(session, incident_id)
        job = session.get(Job, row.job_id)
        job.status = jobs.CANCELLED
        _resolve(ctx, session, row, inc.SKIPPED, actor, reason)
        if row.kind == "connector" and row.instance_id and row.task_id:
            value = result if result is not None else {"skipped": True, "reason": reason}
            complete_in_session(ctx, session, row.instance_id, row.task_id, value, actor=actor,
                                action="connector.skip", reason=reason)
        return IncidentView.of(row)

    return ctx.db.run(command, retries=ctx.settings.command_retries)
