"""Claim, lease, run, retry with exponential back-off, and open an incident after the last attempt.

A claim moves a due job to `running` with `locked_by`/`locked_until` (the lease). A job whose worker
died stays `running` until its lease expires; then any worker may claim it again. Finishing is a
conditional update on `locked_by`, so a worker that lost its lease can never overwrite the newer run.
PostgreSQL claims with `SELECT … FOR UPDATE SKIP LOCKED`; SQLite (one writer at a time) claims with a
conditional `UPDATE … WHERE status='pending'`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from engine.jobs.errors import JobError
from engine.jobs.queue import handler_for
from engine.models import Instance, Job
from engine.models import instance as inst
from engine.models import job as jobs

log = logging.getLogger("engine.jobs")
MARKS_INSTANCE = ("connector", "timer", "message_match")  # a failed webhook never blocks the instance


def load_handlers() -> None:
    """Import every module that registers job handlers (idempotent)."""
    from engine import messages, service_tasks, sla, timers, webhooks  # noqa: F401


def worker_name(prefix: str = "worker") -> str:
    """A worker id unique per host, process and thread."""
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.status == jobs.PENDING, Job.run_at <= now),
        and_(Job.status == jobs.RUNNING, Job.locked_until < now),
    )


def backoff(ctx: Any, attempts: int) -> timedelta:
    """Exponential back-off after the `attempts`-th failure: base * 2**(attempts-1), capped."""
    base = ctx.settings.job_backoff_seconds
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), ctx.settings.job_backoff_max_seconds))


def claim_jobs(ctx: Any, worker_id: str, *, limit: int = 10, job_id: str | None = None) -> list[Job]:
    """Claim up to `limit` due jobs (or the one `job_id` when it is due) for `worker_id`.

    Returns:
        The claimed jobs, detached, with `attempts` already counting this run.
    """
    now = ctx.clock.now()
    lease = now + timedelta(seconds=ctx.settings.job_lease_seconds)
    with ctx.db.unit_of_work() as session:
        query = select(Job.id).where(_claimable(now)).order_by(Job.run_at).limit(limit)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        if ctx.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for candidate in session.scalars(query).all():
            result = session.execute(
                update(Job).where(Job.id == candidate, _claimable(now))
                .values(status=jobs.RUNNING, locked_by=worker_id, locked_until=lease, attempts=Job.attempts + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                claimed.append(candidate)
        if not claimed:
            return []
        rows = session.scalars(select(Job).where(Job.id.in_(claimed)).order_by(Job.run_at)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def _owned(session: Session, job: Job, worker_id: str) -> Job | None:
    row = session.scalar(select(Job).where(Job.id == job.id, Job.locked_by == worker_id,
                                           Job.status == jobs.RUNNING).with_for_update())
    return row


def _finish_ok(ctx: Any, job: Job, worker_id: str) -> None:
    with ctx.db.unit_of_work() as session:
        row = _owned(session, job, worker_id)
        if row is None:
            log.warning("lost lease before finishing", extra={"job_id": job.id})
            return
        row.status, row.finished_at, row.locked_by, row.locked_until = jobs.DONE, ctx.clock.now(), None, None


def _finish_failed(ctx: Any, job: Job, worker_id: str, exc: BaseException) -> str:
    from engine.incidents import open_incident

    retryable = getattr(exc, "retryable", True)
    message = f"{type(exc).__name__}: {exc}"[:4000]

    def command(session: Session) -> str:
        row = _owned(session, job, worker_id)
        if row is None:
            return "lost"
        now = ctx.clock.now()
        row.last_error, row.locked_by, row.locked_until = message, None, None
        if retryable and row.attempts < row.max_attempts:
            row.status, row.run_at = jobs.PENDING, now + backoff(ctx, row.attempts)
            return "retry"
        row.status, row.finished_at = jobs.FAILED, now
        open_incident(session, row, message, getattr(exc, "response", None), now)
        if row.instance_id and row.kind in MARKS_INSTANCE:
            instance = session.get(Instance, row.instance_id)
            if instance is not None and instance.status == inst.RUNNING:
                instance.status = inst.ERROR
        return "incident"

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def run_job(ctx: Any, job: Job, worker_id: str) -> str:
    """Run one claimed job and record the result.

    Returns:
        "done", "retry", "incident" or "lost" (the lease had passed to another worker).
    """
    load_handlers()
    try:
        handler_for(job.kind)(ctx, job)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
        outcome = _finish_failed(ctx, job, worker_id, exc)
        level = logging.WARNING if isinstance(exc, JobError) else logging.ERROR
        log.log(level, "job failed", extra={"job_id": job.id, "kind": job.kind, "outcome": outcome},
                exc_info=not isinstance(exc, JobError))
        return outcome
    _finish_ok(ctx, job, worker_id)
    return "done"


def run_job_by_id(ctx: Any, job_id: str, worker_id: str) -> str | None:
    """Claim and run one job by id (Celery tasks); None when it is not due or someone else holds it."""
    claimed = claim_jobs(ctx, worker_id, limit=1, job_id=job_id)
    return run_job(ctx, claimed[0], worker_id) if claimed else None


def run_due_jobs(ctx: Any, worker_id: str | None = None, *, max_jobs: int = 1000) -> int:
    """Run due jobs until none is due (or `max_jobs` ran). Returns the number of jobs run."""
    worker_id = worker_id or worker_name()
    count = 0
    while count < max_jobs:
        batch = claim_jobs(ctx, worker_id, limit=min(ctx.settings.job_batch_size, max_jobs - count))
        if not batch:
            return count
        for job in batch:
            run_job(ctx, job, worker_id)
            count += 1
    return count


def due_job_ids(ctx: Any, limit: int = 500) -> list[str]:
    """Ids of jobs a worker could claim now (what Celery beat dispatches)."""
    with ctx.db.unit_of_work() as session:
        query = select(Job.id).where(_claimable(ctx.clock.now())).order_by(Job.run_at).limit(limit)
        return list(session.scalars(query).all())
