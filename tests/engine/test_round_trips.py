"""Fewer round trips per command: deferred writes, the pipelined COMMIT and pinging only idle connections."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine import audit
from engine import db as engine_db
from engine.db import defer
from engine.models import AuditRecord, Institution, Notification
from engine.models.base import new_id
from engine.models.base import utcnow as now

pytestmark = pytest.mark.commits

_NOTIFICATION = Notification.__table__.insert()


def _notification(recipient: str) -> dict:
    return {"recipient": recipient, "kind": "assigned", "title": "t", "body": "b", "urgent": False,
            "instance_id": None, "task_id": None, "created_at": now()}


def _count(ctx, model) -> int:
    return ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(model)))


def test_deferred_rows_are_seen_by_queries_later_in_the_same_transaction(ctx):
    def command(session):
        audit.append(session, actor="a", action="x.one", at=now())
        audit.append(session, actor="a", action="x.two", at=now())  # chains to the cached head
        defer(session, _NOTIFICATION, _notification("u1"))
        seen = session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()
        notified = session.scalar(select(func.count()).select_from(Notification))
        return list(seen), notified

    seen, notified = ctx.db.run(command)
    assert seen[-2:] == ["x.one", "x.two"] and notified == 1
    assert ctx.db.read(audit.verify_chain).ok


def test_appends_in_one_transaction_chain_and_commit_together(ctx):
    def command(session):
        for n in range(3):
            audit.append(session, actor="a", action=f"x.{n}", at=now())

    ctx.db.run(command)
    report = ctx.db.read(audit.verify_chain)
    assert report.ok and report.checked == 3


def test_a_failing_deferred_statement_rolls_back_the_whole_command(ctx):
    duplicate = _notification("u1") | {"id": new_id()}

    def command(session):
        session.add(Institution(code="h9", name="九院", kind="hospital"))
        audit.append(session, actor="a", action="x.kept?", at=now())
        defer(session, _NOTIFICATION, duplicate)
        defer(session, _NOTIFICATION, duplicate)  # primary key violation, raised at the COMMIT

    with pytest.raises(IntegrityError):
        ctx.db.run(command)
    assert _count(ctx, Institution) == 0 and _count(ctx, AuditRecord) == 0 and _count(ctx, Notification) == 0
    assert ctx.db.read(audit.verify_chain).ok
    # The pooled connection left pipeline mode cleanly: the next commands work as usual.
    ctx.db.run(lambda s: audit.append(s, actor="a", action="x.after", at=now()))
    assert ctx.db.read(audit.verify_chain).checked == 1


def test_rows_deferred_inside_a_rolled_back_savepoint_are_dropped(ctx):
    def command(session):
        defer(session, _NOTIFICATION, _notification("before"))
        savepoint = session.begin_nested()
        defer(session, _NOTIFICATION, _notification("inside"))
        savepoint.rollback()
        defer(session, _NOTIFICATION, _notification("after"))

    ctx.db.run(command)
    recipients = ctx.db.read(lambda s: sorted(s.scalars(select(Notification.recipient))))
    assert recipients == ["after", "before"]


def test_a_failed_flush_inside_a_savepoint_keeps_what_was_deferred_before_it(ctx):
    """The flush's own subtransaction rolls back first: that must not drop the command's queued rows."""
    ctx.db.run(lambda s: s.add(Institution(code="h9", name="九院", kind="hospital")))

    def command(session):
        audit.append(session, actor="a", action="kept", at=now())
        try:
            with session.begin_nested():
                session.add(Institution(code="h9", name="重复", kind="hospital"))
        except IntegrityError:
            pass

    ctx.db.run(command)
    assert _count(ctx, AuditRecord) == 1 and ctx.db.read(audit.verify_chain).ok


def test_rows_queued_before_a_savepoint_and_run_inside_it_survive_its_rollback(ctx):
    def command(session):
        audit.append(session, actor="a", action="one", at=now())
        try:
            with session.begin_nested():
                session.execute(select(AuditRecord.seq))  # runs the queue inside the savepoint
                raise RuntimeError
        except RuntimeError:
            pass
        audit.append(session, actor="a", action="two", at=now())

    ctx.db.run(command)
    assert _count(ctx, AuditRecord) == 2 and ctx.db.read(audit.verify_chain).ok


def _terminate_other_backends(ctx) -> None:
    """What a server restart does to the pool: every other connection to the database is closed."""
    url = ctx.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_a_command_survives_the_server_closing_its_pooled_connection(ctx, backend):
    if backend != "postgres":
        pytest.skip("PostgreSQL: SQLite has no server connection to lose")
    ctx.db.run(lambda s: s.add(Institution(code="h9", name="九院", kind="hospital")))
    _terminate_other_backends(ctx)
    # The pooled connection was used a moment ago, so it is handed out without a ping; its first
    # statement fails as a disconnect and the command runs again on a fresh connection.
    ctx.db.run(lambda s: s.add(Institution(code="h10", name="十院", kind="hospital")))
    assert _count(ctx, Institution) == 2


def test_the_lazy_description_describes_the_result_it_came_from(ctx, backend):
    if backend != "postgres":
        pytest.skip("PostgreSQL: the engine's psycopg cursor")
    with ctx.db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("SELECT 1::int AS a, 'x'::text AS b, now() AS c")
        lazy, eager = cursor.description, psycopg.Cursor.description.fget(cursor)
        cursor.execute("SELECT 2 AS other")  # the cursor moves on before the columns are looked at
        assert len(lazy) == 3
        assert [tuple(c) for c in lazy] == [tuple(c) for c in eager] and lazy[1].name == "b"
        cursor.execute("UPDATE institutions SET name = name WHERE false")
        assert cursor.description is None


def test_an_idle_pooled_connection_is_pinged_and_replaced(ctx, backend, monkeypatch):
    if backend != "postgres":
        pytest.skip("PostgreSQL: SQLite has no server connection to lose")
    ctx.db.run(lambda s: s.add(Institution(code="h9", name="九院", kind="hospital")))
    _terminate_other_backends(ctx)
    monkeypatch.setattr(engine_db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    attempts = []
    ctx.db.run(lambda s: attempts.append(s.add(Institution(code="h10", name="十院", kind="hospital"))))
    assert len(attempts) == 1  # the ping found the dead connection at checkout: no statement failed
    assert _count(ctx, Institution) == 2
