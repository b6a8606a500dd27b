"""Two users acting on one instance at once never lose an update."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError

from engine import (
    Subject,
    complete_task,
    deploy,
    get_instance,
    list_tasks,
    start_instance,
    verify_audit_chain,
)
from engine.errors import Conflict
from engine.models import Instance
from tests.conftest import read_bundle

ALICE = Subject("alice", {"h1": frozenset({"staff"})})
VALID = {"applicant_name": "张三", "amount": 10, "reason": "耗材采购"}


@pytest.mark.commits
def test_same_task_completed_twice_concurrently_has_one_winner(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    views = [start_instance(ctx, "approval", initiator="alice", institution="h1") for _ in range(5)]
    for view in views:
        task_id = view.open_tasks[0].id
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def attempt(tid: str = task_id, barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes) -> None:
            barrier.wait()
            try:
                complete_task(ctx, tid, ALICE, data=VALID)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict", "ok"]
        final = get_instance(ctx, view.id)
        assert [t.node_id for t in final.history] == ["apply"]
        assert [t.node_id for t in final.open_tasks] == ["dept_review"]
    assert verify_audit_chain(ctx).ok


@pytest.mark.commits
def test_parallel_instances_keep_a_single_audit_chain(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            for k in range(5):
                start_instance(ctx, "approval", initiator="alice", institution="h1", business_key=f"{n}-{k}")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_audit_chain(ctx)
    assert report.ok and report.checked == 21
    assert len(list_tasks(ctx, ALICE, limit=100)) == 20


# ---- the optimistic lock, deterministically: a competitor commits between our load and our flush ----

def _instance_id(ctx) -> str:
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    return start_instance(ctx, "approval", initiator="alice", institution="h1").id


def _retitle_elsewhere(ctx, instance_id: str, title: str) -> None:
    """A competing command: its own session and transaction, committed."""
    with ctx.db.unit_of_work() as other:
        other.get(Instance, instance_id).title = title


def _skip_on_sqlite(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE): no commit can land between a load and its flush")


@pytest.mark.commits
def test_flush_after_a_competing_commit_hits_the_version_check(ctx):
    instance_id = _instance_id(ctx)
    ours = ctx.db.sessions()
    try:
        loaded = ours.get(Instance, instance_id)
        ours.commit()  # ends the read (SQLite would otherwise hold the writer lock); the object stays loaded
        _retitle_elsewhere(ctx, instance_id, "theirs")
        loaded.title = "ours"
        with pytest.raises(StaleDataError):
            ours.flush()
    finally:
        ours.rollback()
        ours.close()
    assert get_instance(ctx, instance_id).title == "theirs"


@pytest.mark.commits
def test_run_retries_after_a_stale_version_and_loses_no_update(ctx, backend):
    _skip_on_sqlite(backend)
    instance_id = _instance_id(ctx)
    attempts: list[int] = []

    def command(session):
        instance = session.get(Instance, instance_id)
        attempts.append(instance.row_version)
        if len(attempts) == 1:
            _retitle_elsewhere(ctx, instance_id, "theirs")
        instance.title = f"{instance.title}+ours"
        session.flush()
        return instance.row_version

    assert ctx.db.run(command) == attempts[-1] + 1
    assert attempts == [attempts[0], attempts[0] + 1]  # the retry read the competitor's version
    assert get_instance(ctx, instance_id).title == "theirs+ours"


@pytest.mark.commits
def test_run_gives_up_with_conflict_when_every_attempt_is_stale(ctx, backend):
    _skip_on_sqlite(backend)
    instance_id = _instance_id(ctx)
    attempts: list[int] = []

    def command(session):
        instance = session.get(Instance, instance_id)
        attempts.append(instance.row_version)
        _retitle_elsewhere(ctx, instance_id, f"theirs-{len(attempts)}")
        instance.title = "ours"
        session.flush()

    with pytest.raises(Conflict, match="concurrent update"):
        ctx.db.run(command, retries=2)
    assert len(attempts) == 3
    assert get_instance(ctx, instance_id).title == "theirs-3"


@pytest.mark.commits
def test_complete_task_loses_to_a_competitor_that_commits_mid_command(ctx, backend, monkeypatch):
    """The loser's flush fails the row_version check; the retry re-reads and refuses: already handled."""
    _skip_on_sqlite(backend)
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    view = start_instance(ctx, "approval", initiator="alice", institution="h1")
    task_id = view.open_tasks[0].id
    original = ctx.runtime.complete_step
    raced: list[str] = []

    def complete_step_with_a_competitor(workflow, step_id, data):
        if not raced:
            raced.append("competitor")
            complete_task(ctx, task_id, ALICE, data=VALID)  # its own transaction, committed
        return original(workflow, step_id, data)

    monkeypatch.setattr(ctx.runtime, "complete_step", complete_step_with_a_competitor)
    with pytest.raises(Conflict, match="task already handled"):
        complete_task(ctx, task_id, ALICE, data={**VALID, "reason": "ours"})
    final = get_instance(ctx, view.id)
    assert [t.node_id for t in final.history] == ["apply"]
    assert [t.node_id for t in final.open_tasks] == ["dept_review"]
    assert verify_audit_chain(ctx).ok
