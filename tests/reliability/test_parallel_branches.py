"""100 concurrent clients completing tasks on parallel branches of the same instances.

Model: every instance has four branch tasks; each is completed exactly once by whichever client wins;
after the join exactly one 'decide' task is open. Nothing may be lost or duplicated.
"""
from __future__ import annotations

import random
import threading

import pytest

from engine import Subject, complete_task, deploy, get_instance, start_instance, verify_audit_chain
from engine.errors import Conflict
from tests.conftest import read_bundle

DOCTORS = [Subject(f"doc{n}", {"h1": frozenset({"doctor"})}) for n in range(100)]
BRANCHES = {"review_a", "review_b", "review_c", "review_d"}


@pytest.mark.commits
def test_hundred_clients_on_parallel_branches_lose_and_duplicate_nothing(ctx):
    deploy(ctx, read_bundle("parallel_review.bpmn"), actor="admin")
    instances = [start_instance(ctx, "parallel_review", initiator="a", institution="h1") for _ in range(25)]
    work = [(doctor, task.id) for inst in instances for task in inst.open_tasks for doctor in random.sample(DOCTORS, 2)]
    random.Random(7).shuffle(work)
    # 200 attempts on 100 tasks from 100 concurrent clients: every task gets two racing clients.
    wins: dict[str, str] = {}
    conflicts: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def client(batch: list[tuple[Subject, str]]) -> None:
        barrier.wait()
        for doctor, task_id in batch:
            try:
                complete_task(ctx, task_id, doctor, outcome="approve", data={"opinion": doctor.username})
                with lock:
                    assert task_id not in wins, "a task was completed twice"
                    wins[task_id] = doctor.username
            except Conflict:
                conflicts.append(task_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=client, args=(work[i::100],)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(wins) == 100 and len(conflicts) == 100
    for inst in instances:
        final = get_instance(ctx, inst.id)
        done = [t for t in final.history if t.state == "completed"]
        assert {t.node_id for t in done} == BRANCHES and len(done) == 4
        assert [t.node_id for t in final.open_tasks] == ["decide"]
    assert verify_audit_chain(ctx).ok
