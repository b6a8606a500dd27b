"""Shared fixtures: every engine test runs on SQLite and on PostgreSQL, on a database built by Alembic.

Isolation: one connection with an outer transaction; the engine's commits become savepoints and
everything is rolled back at teardown. Tests marked `commits` get a real database and a cleanup.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from engine import FakeClock, Settings, Subject, audit
from engine.authz import DEFAULT_SEED_PATH, Authorizer, build_enforcer
from engine.bpmn.runtime import BpmnRuntime
from engine.bpmn.script_env import make_script_engine
from engine.context import EngineContext
from engine.db import Database, make_engine
from engine.identity.policy import decide
from engine.migrate import upgrade
from engine.models import AuditHead, Base
from tests.audit_guard import audit_guard_lifted
from tests.fakes import servers

PG_ADMIN = os.environ.get("HWF_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATA = Path(__file__).parent / "engine" / "data"


def _checkout_tag() -> str:
    """Distinct per checkout, so parallel test runs in different clones never drop each other's databases."""
    import hashlib
    return hashlib.sha1(str(Path(__file__).resolve()).encode()).hexdigest()[:8]


def _pg_url(name: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


def _fresh_pg_database(name: str) -> str:
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("HWF_ALLOW_SKIP_PG") == "1":
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        raise
    return _pg_url(name)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = _fresh_pg_database(f"hwf_test_{_checkout_tag()}_{worker}")
    upgrade(url)
    return url


def make_settings(url: str, **overrides: object) -> Settings:
    return Settings(database_url=url, forms_dir=DATA / "forms", **overrides)


@cache
def _seed_authorizer() -> Authorizer:
    return Authorizer(build_enforcer(DEFAULT_SEED_PATH))


def seed_policy_hook(subject: Subject, institution: str, obj: str, act: str) -> bool:
    """The shipped seed policy (policies/seed_policy.csv) read from the file, for tests whose database has
    no policy rows; without a hook the engine refuses every role-based action."""
    return decide(_seed_authorizer(), subject, institution, obj, act)


def _context(url: str, database: Database, clock: FakeClock) -> EngineContext:
    settings = make_settings(url)
    runtime = BpmnRuntime(lambda: make_script_engine(settings.script_timeout_seconds))
    return EngineContext(settings=settings, db=database, runtime=runtime, clock=clock,
                         extras={"policy": seed_policy_hook})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ctx(database_url: str, clock: FakeClock, request: pytest.FixtureRequest) -> Iterator[EngineContext]:
    engine = make_engine(database_url)
    if request.node.get_closest_marker("commits"):
        yield _context(database_url, Database(engine), clock)
        with engine.begin() as conn, audit_guard_lifted(conn):
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(AuditHead.__table__.insert().values(id=audit.HEAD_ID, seq=0, hash=audit.GENESIS))
        engine.dispose()
        return
    connection = engine.connect()
    outer = connection.begin()
    database = Database(engine)
    database.sessions = sessionmaker(bind=connection, expire_on_commit=False, autoflush=False,
                                     join_transaction_mode="create_savepoint")
    try:
        yield _context(database_url, database, clock)
    finally:
        outer.rollback()
        connection.close()
        engine.dispose()


@pytest.fixture(scope="module")
def systems() -> Iterator[dict[str, servers.FakeSystem]]:
    """The fake external systems of tests/fakes/servers.py (HIS, payment, identity …) on local ports."""
    started = {name: make().start() for name, make in servers.ALL.items()}
    yield started
    for system in started.values():
        system.stop()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgresql") else "sqlite"


def read_bundle(*names: str) -> dict[str, bytes]:
    return {name: (DATA / name).read_bytes() for name in names}


def sql(ctx: EngineContext, statement: str, **params: object) -> list:
    with ctx.db.unit_of_work() as session:
        result = session.execute(text(statement), params)
        return list(result) if result.returns_rows else []
