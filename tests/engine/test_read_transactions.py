"""Database.read: read-only transactions that never queue behind a writer and refuse to write."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine import Settings, Subject, complete_task, deploy, open_engine, start_instance
from engine.models import Institution
from tests.conftest import read_bundle

VALID = {"applicant_name": "张三", "amount": 10, "reason": "耗材采购"}

pytestmark = pytest.mark.commits


def test_a_read_that_changes_objects_is_refused_and_rolled_back(ctx):
    ctx.db.run(lambda s: s.add(Institution(code="h9", name="九院", kind="hospital")))

    def rename(session):
        session.scalars(select(Institution).where(Institution.code == "h9")).one().name = "改名"

    with pytest.raises(RuntimeError, match="use Database.run"):
        ctx.db.read(rename)
    assert ctx.db.read(lambda s: s.scalar(select(Institution.name).where(Institution.code == "h9"))) == "九院"


def test_a_read_runs_while_another_thread_holds_the_write_transaction(ctx):
    ctx.db.run(lambda s: s.add(Institution(code="h9", name="九院", kind="hospital")))
    writing, finish = threading.Event(), threading.Event()

    def writer() -> None:
        def hold(session) -> None:
            session.add(Institution(code="h10", name="十院", kind="hospital"))
            session.flush()
            writing.set()
            finish.wait(10)
        ctx.db.run(hold)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        # The writer's uncommitted row is not visible, and the read does not wait for the writer to end.
        count = ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Institution)
                                               .where(Institution.code.in_(["h9", "h10"]))))
        assert count == 1 and not finish.is_set()
    finally:
        finish.set()
        thread.join()
    assert ctx.db.read(lambda s: s.scalar(select(func.count()).select_from(Institution)
                                          .where(Institution.code.in_(["h9", "h10"])))) == 2


def test_a_fresh_process_loads_the_policy_inside_its_first_command(ctx):
    """The first authorization in a new process (CLI, worker, crash driver) loads the Casbin policy from
    inside the command's write transaction; on SQLite that load must not wait for the command itself."""
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    task = start_instance(ctx, "approval", initiator="alice", institution="h1").open_tasks[0]
    fresh = open_engine(Settings(database_url=ctx.settings.database_url, forms_dir=ctx.settings.forms_dir))
    try:
        assert "_authz_state" not in fresh.extras
        result = complete_task(fresh, task.id, Subject("alice", {"h1": frozenset({"staff"})}), data=VALID)
        assert result.instance.id == task.instance_id and "_authz_state" in fresh.extras
    finally:
        fresh.db.engine.dispose()
