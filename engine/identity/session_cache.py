"""Resolved sessions kept in this process for at most ``settings.session_cache_seconds`` (1 s).

Every API request resolved its session in a read transaction of its own (session row, user, roles): a
thread-pool hop, a connection checkout with its ping and two statements, for an answer that changes only
when someone logs out, is deactivated, changes a password, gets new roles, or the session times out.

When a cached answer is used:

- **Time**: only until the session's next ``last_seen`` write (once a minute), its idle or absolute end
  or the account's expiry (engine clock); only for ``session_cache_seconds`` after it was read; and only
  while the policy version this process last checked is younger than ``policy_reload_seconds`` and is
  the one the roles were built from (the request that finds it older goes to the database, which also
  refreshes the policy, so roles are exactly as fresh as without the cache).
- **Writes in this process**: any INSERT, UPDATE or DELETE on the identity tables (``sessions``,
  ``users``, ``institutions``, ``security_settings``, ``casbin_rule``, ``policy_version``), through the
  ORM, Core or text, drops every entry: once when the statement runs and again when its connection
  returns to the pool (after the commit), so a request that read the old rows in between does not keep
  them. Logout, deactivation, password change and role changes take effect on the next request.
- **Writes in other processes** (another API worker, the CLI) are seen within ``session_cache_seconds``.
  ``session_cache_seconds = 0`` turns the cache off.

Only live sessions are cached; unknown, ended and expired tokens always go to the database.
"""
from __future__ import annotations

import contextvars
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event

from engine.context import EngineContext

if TYPE_CHECKING:
    from engine.identity.sessions import SessionInfo

IDENTITY_TABLES = frozenset({"sessions", "users", "institutions", "security_settings", "casbin_rule",
                             "policy_version"})
CACHE_KEY = "_session_cache"
_WROTE = "hwf_identity_write"
_MAX_ENTRIES = 10_000
_WRITES = ("INSERT", "UPDATE", "DELETE")
_CREATE = threading.Lock()
# resolve_session's own ``last_seen`` write changes no answer, so it must not empty the cache.
_touching: contextvars.ContextVar[bool] = contextvars.ContextVar("hwf_session_touch", default=False)
# One write watch per SQLAlchemy engine, emptying every cache over it (tests open many contexts per engine).
_caches_by_engine: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[SessionCache]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CachedSession:
    info: SessionInfo
    good_until: datetime  # engine clock: next last_seen write, idle/absolute end, account expiry
    read_at: float  # time.monotonic() when the rows were read
    policy_checked_at: float  # time.monotonic() of the policy version check the roles rely on
    policy_version: int
    generation: int  # SessionCache.generation before the rows were read


class SessionCache:
    """Token hash → resolved session; see the module docstring for when an entry is used."""

    def __init__(self) -> None:
        self.generation = 0
        self._entries: dict[str, CachedSession] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def get(self, key: str, at: datetime, moment: float, ttl: float, policy_interval: float,
            policy_version: int) -> SessionInfo | None:
        entry = self._entries.get(key)
        if (entry is None or entry.generation != self.generation or at >= entry.good_until
                or moment - entry.read_at >= ttl or moment - entry.policy_checked_at >= policy_interval
                or entry.policy_version != policy_version):
            return None
        return entry.info

    def put(self, key: str, entry: CachedSession) -> None:
        with self._lock:
            if entry.generation != self.generation:
                return  # an identity write landed while these rows were read
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry


def session_cache(ctx: EngineContext) -> SessionCache:
    """The context's cache, created (and the write watch on its engine installed) on first use."""
    cache = ctx.extras.get(CACHE_KEY)
    if cache is None:
        with _CREATE:
            cache = ctx.extras.get(CACHE_KEY)
            if cache is None:
                cache = ctx.extras[CACHE_KEY] = SessionCache()
                caches = _caches_by_engine.get(ctx.db.engine)
                if caches is None:
                    caches = _caches_by_engine[ctx.db.engine] = weakref.WeakSet()
                    _watch_identity_writes(ctx.db.engine, caches)
                caches.add(cache)
    return cache


def written_table(statement: str) -> str | None:
    """The table an INSERT/UPDATE/DELETE statement writes, or None for anything else."""
    statement = statement.lstrip()
    verb = statement[:6].upper()
    if verb not in _WRITES:
        return None
    words = statement.split(None, 3)
    name = words[1] if verb == "UPDATE" else (words[2] if len(words) > 2 else "")
    return name.split("(")[0].split(".")[-1].strip('"')


def _watch_identity_writes(engine: Engine, caches: weakref.WeakSet[SessionCache]) -> None:
    def invalidate() -> None:
        for cache in list(caches):
            cache.invalidate()

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if not _touching.get() and written_table(statement) in IDENTITY_TABLES:
            conn.info[_WROTE] = True
            invalidate()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record.info.pop(_WROTE, False):
            invalidate()  # after the commit: drop what concurrent requests read before it


@contextmanager
def touching() -> Iterator[None]:
    """Statements in this block are the session's own ``last_seen`` write (see resolve_session)."""
    token = _touching.set(True)
    try:
        yield
    finally:
        _touching.reset(token)
