"""Enqueue jobs and register their handlers.

`enqueue` only adds a row to the caller's session: the job exists exactly when the command that
caused it commits. Handlers are looked up by `kind` when a worker runs the job.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models.job import Job

Handler = Callable[[Any, Job], None]  # (EngineContext, job) -> None; raise to retry
_HANDLERS: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that executes jobs of `kind` (one handler per kind)."""

    def register(func: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not func:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        _HANDLERS[kind] = func
        return func

    return register


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise LookupError(f"no handler registered for job kind {kind!r}") from None


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime,
    instance_id: str | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
) -> Job:
    """Add a job to the current transaction; with a `dedupe_key` already queued, return that job."""
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(kind=kind, payload=payload, run_at=run_at, instance_id=instance_id, dedupe_key=dedupe_key,
              max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job
