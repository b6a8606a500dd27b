"""Failure counters for login identifiers that name no account (so wrong names and wrong passwords look alike).

Keyed by the blind index (keyed HMAC) of the normalised identifier: the table never holds the names people
typed, and nobody can test a guessed name against it without the key.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.identity._common import aware, blind_index
from engine.models import UnknownLoginFailures
from engine.security import lockout


def identifier_key(ctx: EngineContext, identifier: str) -> str:
    """Blind index of the identifier, trimmed and lower-cased (``Nobody`` and ``nobody`` share a counter)."""
    return blind_index(ctx).compute(identifier.strip().lower(), "login_identifier")


def load(session: Session, key: str) -> lockout.LoginFailures:
    """The stored failures of an unknown identifier (row-locked on PostgreSQL until the commit)."""
    row = session.scalars(
        select(UnknownLoginFailures).where(UnknownLoginFailures.identifier_hash == key).with_for_update()
    ).first()
    return lockout.LoginFailures() if row is None else lockout.LoginFailures(row.failures, aware(row.last_failure_at))


def store(session: Session, key: str, state: lockout.LoginFailures, at: datetime,
          policy: lockout.LockoutPolicy) -> None:
    """Save the new state and drop rows whose failures no longer count (lock and window both over)."""
    stale = at - timedelta(minutes=max(policy.lock_minutes, policy.reset_minutes))
    session.execute(delete(UnknownLoginFailures).where(UnknownLoginFailures.last_failure_at < stale,
                                                       UnknownLoginFailures.identifier_hash != key))
    row = session.get(UnknownLoginFailures, key)
    if row is None:
        try:
            with session.begin_nested():
                session.add(UnknownLoginFailures(identifier_hash=key, failures=state.failures,
                                                 last_failure_at=state.last_failure_at or at))
            return
        except IntegrityError:  # a concurrent first failure for the same name: update its row instead
            row = session.get(UnknownLoginFailures, key, with_for_update=True, populate_existing=True)
    if row is not None:
        row.failures, row.last_failure_at = state.failures, state.last_failure_at or at
