"""会签 / 或签 / 比例 / 依次 as sign plans: one READY Spiff task, votes in our tables, restore between votes."""
from __future__ import annotations

import threading

import pytest

from engine import complete_task, get_instance, get_task, list_signers, verify_audit_chain
from engine.errors import Conflict, PermissionDenied, ValidationFailed
from tests.engine.operations.helpers import (
    ALICE,
    ARCHIVIST,
    E1,
    E2,
    E3,
    open_nodes,
    ready_spiff_tasks,
    reopened,
    start,
    states,
    task_of,
)


def _start(ctx, rule):
    return start(ctx, "countersign", rule=rule, signers=["e1", "e2", "e3"])


def test_ratio_two_of_three_passes_at_the_second_approval_across_restore(ctx):
    view = _start(ctx, "ratio")
    assert open_nodes(ctx, view.id) == [("cs_ratio", "e1"), ("cs_ratio", "e2"), ("cs_ratio", "e3")]
    assert ready_spiff_tasks(ctx, view.id) == ["cs_ratio"]  # one Spiff task, three votes
    complete_task(reopened(ctx), task_of(ctx, E1).id, E1, outcome="approve", data={"comment": "同意"})
    assert ready_spiff_tasks(reopened(ctx), view.id) == ["cs_ratio"]
    assert len(get_instance(ctx, view.id).open_tasks) == 2
    result = complete_task(reopened(ctx), task_of(ctx, E3).id, E3, outcome="approve", data={"comment": "可以"})
    assert [t.node_id for t in result.created] == ["archive"]
    assert ("cs_ratio", "cancelled", None) in states(ctx, view.id)  # e2's vote is no longer needed
    data = get_instance(ctx, view.id, with_data=True).data
    assert data["outcome"] == "approve"
    assert [v["signer"] for v in data["cs_ratio_votes"]] == ["e1", "e3"]


def test_ratio_rejects_early_when_passing_becomes_impossible(ctx):
    view = _start(ctx, "ratio")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="reject")
    assert len(get_instance(reopened(ctx), view.id).open_tasks) == 2
    complete_task(reopened(ctx), task_of(ctx, E2).id, E2, outcome="reject")
    final = get_instance(ctx, view.id, with_data=True)
    assert final.status == "completed" and final.data["outcome"] == "reject"
    assert list_signers(ctx, final.history[1].id, ALICE)[2].state == "cancelled"


def test_all_rejects_on_first_reject_and_passes_on_all(ctx):
    view = _start(ctx, "all")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="reject")
    assert get_instance(ctx, view.id).status == "completed"
    other = _start(ctx, "all")
    for signer in (E1, E2, E3):
        complete_task(ctx, task_of(ctx, signer, other.id).id, signer, outcome="approve")
    assert open_nodes(ctx, other.id) == [("archive", None)]


def test_all_keeps_per_step_field_permissions_for_each_vote(ctx):
    view = _start(ctx, "all")
    task = task_of(ctx, E1)
    detail = get_task(ctx, task.id, E1)
    assert detail.schema["properties"]["amount"]["readOnly"] is True
    with pytest.raises(ValidationFailed):
        complete_task(ctx, task.id, E1, outcome="approve", data={"amount": 1})
    assert open_nodes(ctx, view.id)[0] == ("cs_all", "e1")


def test_any_first_vote_decides(ctx):
    view = _start(ctx, "any")
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    with pytest.raises(Conflict):
        complete_task(ctx, [t for t in get_instance(ctx, view.id).history if t.assignee == "e1"][0].id, E1,
                      outcome="approve")


def test_sequential_asks_one_after_another(ctx):
    view = _start(ctx, "sequential")
    assert open_nodes(ctx, view.id) == [("cs_seq", "e1")]
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    assert open_nodes(reopened(ctx), view.id) == [("cs_seq", "e2")]
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="approve")
    complete_task(ctx, task_of(ctx, E3).id, E3, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_votes_are_approve_or_reject_and_only_by_the_signer(ctx):
    _start(ctx, "ratio")
    task = task_of(ctx, E1)
    with pytest.raises(ValidationFailed):
        complete_task(ctx, task.id, E1, outcome="maybe")
    with pytest.raises(PermissionDenied):
        complete_task(ctx, task.id, E2, outcome="approve")
    with pytest.raises(PermissionDenied):
        complete_task(ctx, task.id, ARCHIVIST, outcome="approve")


@pytest.mark.commits
def test_concurrent_votes_on_two_of_three_decide_exactly_once(ctx):
    view = _start(ctx, "ratio")
    tasks = {s.username: task_of(ctx, s).id for s in (E1, E2, E3)}
    complete_task(ctx, tasks["e1"], E1, outcome="reject")
    barrier, errors = threading.Barrier(2), []

    def vote(subject):
        barrier.wait()
        try:
            complete_task(ctx, tasks[subject.username], subject, outcome="approve")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(s,)) for s in (E2, E3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert open_nodes(ctx, view.id) == [("archive", None)], (states(ctx, view.id),
                                                             get_instance(ctx, view.id, with_data=True).data)
    assert [t.node_id for t in get_instance(ctx, view.id).history].count("cs_ratio") == 3
    assert verify_audit_chain(ctx).ok
