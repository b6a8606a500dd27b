"""Two users acting on one instance at once never lose an update."""
from __future__ import annotations

import threading

import pytest

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
