"""Database engine, sessions and the one-transaction-per-command unit of work."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine._pg_cursor import LazyDescriptionCursor
from engine.errors import Conflict

T = TypeVar("T")
SQLITE_BUSY_SECONDS = 30
READ_ONLY = "hwf_read_only"
# A pooled PostgreSQL connection idle longer than this is pinged at checkout (see _pg_setup).
IDLE_PING_SECONDS = 5.0
# SQLSTATEs that mean the server ended the session: connection exceptions (class 08), and
# admin_shutdown / crash_shutdown / cannot_connect_now (a terminated backend or a restarting server).
_CONNECTION_LOST = ("08", "57P01", "57P02", "57P03")
_DEFERRED = "hwf_deferred"
_CACHE = "hwf_transaction_cache"
_SAVEPOINTS = "hwf_savepoints"
_CHECKED_IN = "hwf_checked_in"
_BEFORE_COMMIT = "hwf_before_commit"


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue BEGIN IMMEDIATE ourselves so that
    # two writers serialize at the start instead of failing on a stale read snapshot.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader (Database.reading) takes a WAL snapshot and never waits for the writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create a SQLAlchemy engine for SQLite (embedded) or PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo,
                               connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS})
        _sqlite_setup(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20,
                           connect_args={"cursor_factory": LazyDescriptionCursor})
    _pg_setup(engine)
    return engine


def _pg_setup(engine: Engine) -> None:
    """Ping only connections that sat idle in the pool, instead of `pool_pre_ping` on every checkout.

    The pre-ping was one extra round trip per command (a quarter of a plain step's database time on
    loopback). A connection idle for less than IDLE_PING_SECONDS is handed out unchecked; if the server
    went away meanwhile, its first statement fails as a disconnect, SQLAlchemy invalidates the pool, and
    `Database.run`/`read` run the command again on a fresh connection (safe: nothing was committed).
    """
    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        # psycopg reports a terminated backend as an error before it marks the connection broken, which
        # is all SQLAlchemy looks at: count it as a disconnect, so the pool drops it (and the older ones).
        if str(getattr(context.original_exception, "sqlstate", None) or "").startswith(_CONNECTION_LOST):
            context.is_disconnect = True

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_CHECKED_IN)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out (or opens) another one.
            raise DisconnectionError("idle pooled connection failed its ping") from exc


class Database:
    """Owns the engine and session factory; `unit_of_work()` is the only place that commits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        # SQLite runs one writer at a time and every unit of work is a writer (BEGIN IMMEDIATE). A thread
        # that finds the file locked sleeps in SQLite's busy handler in growing steps (up to 100 ms), so
        # under concurrent requests most of the latency was sleeping. Threads of this process queue on a
        # lock instead and start as soon as the previous transaction ends; other processes still meet
        # the busy handler. Re-entrant, and bounded by the busy timeout, so nesting behaves as before.
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory; whatever factory is set (tests bind one to a connection) runs `defer`red writes."""
        return self._sessions

    @sessions.setter
    def sessions(self, factory: sessionmaker[Session]) -> None:
        # Listeners on a sessionmaker apply to its sessions only (it makes its own Session subclass).
        event.listen(factory, "do_orm_execute", _run_deferred_before_query)
        event.listen(factory, "before_flush", _run_deferred_before_flush)
        event.listen(factory, "after_transaction_create", _mark_savepoint)
        event.listen(factory, "after_soft_rollback", _forget_deferred)
        self._sessions = factory

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        queued = self._writer is not None and self._writer.acquire(timeout=SQLITE_BUSY_SECONDS)
        try:
            with _committed(self.sessions()) as session:
                yield session
        finally:
            if queued:
                self._writer.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that writes nothing and never queues behind writers.

        On SQLite it is a deferred transaction (a WAL snapshot) outside the writer lock, so it may be
        opened while this thread's own write transaction is running (the policy version check does). A
        session that changed objects is refused: use `run` for anything that writes.
        """
        session = self.sessions()
        if self._writer is not None and isinstance(session.get_bind(), Engine):
            session.connection(execution_options={READ_ONLY: True})  # seen by _on_begin: a deferred BEGIN
        with _committed(session, before_commit=_refuse_changes) as reader:
            yield reader

    def read(self, query: Callable[[Session], T]) -> T:
        """Run a query that writes nothing in its own read-only transaction (see `reading`).

        Retried once on a connection lost before the query ran (see `_pg_setup`).
        """
        try:
            with self.reading() as session:
                return query(session)
        except DBAPIError as exc:
            if not _lost_before_commit(exc):
                raise
        with self.reading() as session:
            return query(session)

    def run(self, command: Callable[[Session], T], retries: int = 3) -> T:
        """Run a command in one transaction; retry on an optimistic-lock or lock conflict.

        Raises:
            Conflict: when the command still conflicts after `retries` attempts.
        """
        for attempt in range(retries + 1):
            try:
                with self.unit_of_work() as session:
                    return command(session)
            except StaleDataError:
                if attempt == retries:
                    raise Conflict("数据已被他人修改，请刷新后重试 (concurrent update)") from None
            except OperationalError as exc:
                if not (_is_lock_error(exc) or _lost_before_commit(exc)) or attempt == retries:
                    raise
            except DBAPIError as exc:
                if not _lost_before_commit(exc) or attempt == retries:
                    raise
        raise AssertionError("unreachable")



def defer(session: Session, statement: Executable, params: dict[str, Any]) -> None:
    """Run a Core INSERT/UPDATE whose result nobody reads at the end of the transaction, not now.

    For rows written last in a plain step (audit records, notifications, candidate rows). On PostgreSQL
    the deferred statements go out in one pipeline together with the COMMIT: one round trip instead of
    one per statement. The transaction is the same, so they commit or roll back with everything else.
    Any ORM query or non-empty ORM flush in the same session runs them first, so reads and writes later
    in the transaction still see them in order; Core statements on `session.connection()` do not, so
    their callers call `run_deferred` first (`drop_candidates`). Only for sessions of
    `Database.sessions`, whose listeners do that.
    """
    session.info.setdefault(_DEFERRED, []).append((statement, params))


def run_deferred(session: Session) -> None:
    """Execute the statements `defer` queued so far, in order."""
    pending = session.info.get(_DEFERRED)
    if not pending:
        return
    connection = session.connection()
    while pending:
        statement, params = pending.pop(0)
        connection.execute(statement, params)


def _run_deferred_before_query(orm_execute_state: Any) -> None:
    run_deferred(orm_execute_state.session)


def _run_deferred_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Deferred rows keep their place before any later ORM write (which may refer to or replace them).
    run_deferred(session)


def transaction_cache(session: Session) -> dict[str, Any]:
    """Values valid until the session's transaction ends (the audit head); a savepoint rollback restores them."""
    return session.info.setdefault(_CACHE, {})


def _mark_savepoint(session: Session, transaction: Any) -> None:
    # What a rollback to this savepoint must restore: the statements queued when it began, all of them
    # (a query inside the savepoint may run them there, and the rollback undoes them in the database),
    # and the cache as it was.
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = (
            list(session.info.get(_DEFERRED) or ()), dict(transaction_cache(session)))


def _forget_deferred(session: Session, previous: Any) -> None:
    if previous.nested:  # back to the savepoint: queued as it began, whatever ran or was queued since
        mark = (session.info.get(_SAVEPOINTS) or {}).pop(previous, None)
        if mark is not None:
            session.info[_DEFERRED], session.info[_CACHE] = list(mark[0]), dict(mark[1])
    elif previous.parent is None:  # the transaction itself: what was queued goes with it
        for key in (_DEFERRED, _CACHE, _SAVEPOINTS):
            session.info.pop(key, None)
    # Otherwise a flush's own subtransaction failed inside a savepoint; that savepoint's rollback follows.


@contextmanager
def _committed(session: Session, before_commit: Callable[[Session], None] = lambda _: None) -> Iterator[Session]:
    """Commit the session when the block ends normally, roll back on any exception, always close.

    A disconnect before the COMMIT was sent is marked (`_lost_before_commit`): nothing was committed,
    so `Database.run` may run the command again. After it, the outcome is unknown and is not retried.
    """
    try:
        try:
            yield session
            before_commit(session)
            # ORM changes first, here: outside any pipeline (the optimistic lock reads row counts), and
            # a disconnect while flushing still counts as before the COMMIT.
            session.flush()
        except DBAPIError as exc:
            setattr(exc, _BEFORE_COMMIT, True)
            raise
        with _pipelined(session) as driver:
            run_deferred(session)
            if driver is not None:
                _commit_in_pipeline(session, driver)
        # After a pipelined COMMIT this only ends the session's transaction: psycopg sends no COMMIT
        # when the connection has no transaction open.
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def _pipelined(session: Session) -> Iterator[Any]:
    """psycopg's pipeline mode around the deferred statements and the COMMIT: sent together, one wait.

    Yields the psycopg connection in pipeline mode, or None: SQLite, nothing deferred, or a session
    joined to an outer transaction (the tests' savepoint per test), whose COMMIT is not its own. The
    session keeps its connection until the pipeline is left: `Session.commit` would hand it back to the
    pool (where another thread may take it) while still in pipeline mode, hence `_commit_in_pipeline`.
    """
    bind = session.get_bind()
    if not session.info.get(_DEFERRED) or not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        yield None
        return
    driver = session.connection().connection.driver_connection
    with driver.pipeline():
        yield driver


def _commit_in_pipeline(session: Session, driver: Any) -> None:
    """COMMIT on the driver connection, queued behind the deferred statements; raises their first error.

    An error in any of them aborts the rest (the server skips to the sync point, so the COMMIT does not
    run) and is raised here, wrapped as SQLAlchemy wraps statement errors; the caller then rolls back
    as for any failed statement.
    """
    dialect = session.get_bind().dialect
    try:
        driver.commit()
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance("COMMIT", None, exc, dialect.loaded_dbapi.Error) from exc


def _lost_before_commit(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated and getattr(exc, _BEFORE_COMMIT, False))


def _refuse_changes(session: Session) -> None:
    if session.new or session.dirty or session.deleted or session.info.get(_DEFERRED):
        raise RuntimeError("Database.reading: the query changed objects; use Database.run")


def _is_lock_error(exc: OperationalError) -> bool:
    text_ = str(exc.orig).lower()
    return "locked" in text_ or "deadlock" in text_ or "could not serialize" in text_
