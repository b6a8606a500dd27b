"""Database engine, sessions and the one-transaction-per-command unit of work."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict

T = TypeVar("T")
SQLITE_BUSY_SECONDS = 30
READ_ONLY = "hwf_read_only"


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
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """Owns the engine and session factory; `unit_of_work()` is the only place that commits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        # SQLite runs one writer at a time and every unit of work is a writer (BEGIN IMMEDIATE). A thread
        # that finds the file locked sleeps in SQLite's busy handler in growing steps (up to 100 ms), so
        # under concurrent requests most of the latency was sleeping. Threads of this process queue on a
        # lock instead and start as soon as the previous transaction ends; other processes still meet
        # the busy handler. Re-entrant, and bounded by the busy timeout, so nesting behaves as before.
        self._writer = threading.RLock() if engine.dialect.name == "sqlite" else None

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
        """Run a query that writes nothing in its own read-only transaction (see `reading`)."""
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
                if not _is_lock_error(exc) or attempt == retries:
                    raise
        raise AssertionError("unreachable")



@contextmanager
def _committed(session: Session, before_commit: Callable[[Session], None] = lambda _: None) -> Iterator[Session]:
    """Commit the session when the block ends normally, roll back on any exception, always close."""
    try:
        yield session
        before_commit(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _refuse_changes(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("Database.reading: the query changed objects; use Database.run")


def _is_lock_error(exc: OperationalError) -> bool:
    text_ = str(exc.orig).lower()
    return "locked" in text_ or "deadlock" in text_ or "could not serialize" in text_
