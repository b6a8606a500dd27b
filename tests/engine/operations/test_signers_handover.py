"""认领, 加签 (before/after/into a countersign), 减签, 转办, 委派 — plain and hard cases."""
from __future__ import annotations

import threading

import pytest

from engine import (
    Subject,
    add_signer,
    admin_reassign,
    claim_task,
    complete_task,
    delegate_task,
    get_instance,
    get_task,
    list_signers,
    list_tasks,
    remove_signer,
    send_back,
    task_actions,
    transfer_task,
    unclaim_task,
)
from engine.errors import Conflict, PermissionDenied, ValidationFailed
from tests.engine.operations.helpers import (
    ADMIN,
    ALICE,
    E1,
    E2,
    E4,
    FINANCE,
    HEAD,
    HEAD2,
    MEDICAL,
    STRANGER,
    open_nodes,
    reopened,
    start,
    states,
    task_of,
)


def test_claim_and_unclaim(ctx):
    view = start(ctx, "approval")
    task = task_of(ctx, HEAD)
    with pytest.raises(PermissionDenied):
        claim_task(ctx, task.id, FINANCE)
    assert claim_task(ctx, task.id, HEAD).assignee == "dr_wang"
    assert list_tasks(ctx, HEAD2) == []
    with pytest.raises(Conflict):
        claim_task(ctx, task.id, HEAD2)
    with pytest.raises(PermissionDenied):
        unclaim_task(ctx, task.id, HEAD2)
    unclaim_task(ctx, task.id, HEAD)
    assert [t.id for t in list_tasks(ctx, HEAD2)] == [task.id]
    apply = [t for t in get_instance(ctx, view.id).history if t.node_id == "apply"][0]
    with pytest.raises(Conflict):  # done tasks cannot be unclaimed
        unclaim_task(ctx, apply.id, ALICE)
    assert open_nodes(ctx, view.id) == [("dept_review", None)]


@pytest.mark.commits
def test_two_people_claim_at_once_one_wins(ctx):
    start(ctx, "approval")
    task, results, barrier = task_of(ctx, HEAD), [], threading.Barrier(2)

    def attempt(subject):
        barrier.wait()
        try:
            claim_task(ctx, task.id, subject)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=attempt, args=(s,)) for s in (HEAD, HEAD2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]


def test_add_signer_before_me_holds_my_task_until_they_act(ctx):
    view = start(ctx, "approval")
    mine = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    [theirs] = add_signer(ctx, mine.id, HEAD, "e1", position="before", reason="请专家先看")
    assert list_tasks(ctx, HEAD) == [] and theirs.assignee == "e1"
    with pytest.raises(Conflict):
        complete_task(ctx, mine.id, HEAD, outcome="approve")
    complete_task(reopened(ctx), theirs.id, E1, outcome="approve", data={"comment": "专家意见：可行"})
    back = task_of(ctx, HEAD)
    assert back.id == mine.id and get_task(ctx, mine.id, HEAD).data["comment"] == "专家意见：可行"
    complete_task(ctx, mine.id, HEAD, outcome="approve")
    assert open_nodes(ctx, view.id) == [("finance_review", None)]


def test_add_signer_after_me_then_their_outcome_decides(ctx):
    view = start(ctx, "approval")
    mine = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    assert add_signer(ctx, mine.id, HEAD, "e1", position="after") == []
    complete_task(ctx, mine.id, HEAD, outcome="approve")
    assert open_nodes(ctx, view.id) == [("dept_review", "e1")]
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="reject")
    assert open_nodes(ctx, view.id) == [("apply", "alice")]  # the step's gateway saw "reject"


def test_add_into_a_running_countersign_and_remove_a_signer(ctx):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    [added] = add_signer(ctx, task_of(ctx, E1).id, E1, "e3", position="countersign")
    assert open_nodes(ctx, view.id) == [("cs_all", "e1"), ("cs_all", "e2"), ("cs_all", "e3")]
    with pytest.raises(Conflict):
        add_signer(ctx, task_of(ctx, E2).id, E2, "e3", position="countersign")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="approve")
    signer = next(s for s in list_signers(ctx, added.id, E1) if s.username == "e3")
    with pytest.raises(PermissionDenied):  # only who added them (or an admin)
        remove_signer(ctx, signer.id, E2)
    created = remove_signer(reopened(ctx), signer.id, E1, reason="不需要了")
    assert [t.node_id for t in created] == ["archive"]  # the remaining signers had all approved
    acted = next(s for s in list_signers(ctx, added.id, E1) if s.username == "e1")
    with pytest.raises(Conflict):  # e1 has already voted
        remove_signer(ctx, acted.id, ADMIN)


def test_sequential_add_after_me_inserts_next_in_line(ctx):
    view = start(ctx, "countersign", rule="sequential", signers=["e1", "e2"])
    add_signer(ctx, task_of(ctx, E1).id, E1, "e4", position="after")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    assert open_nodes(ctx, view.id) == [("cs_seq", "e4")]


def test_transfer_to_an_eligible_user_only(ctx):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}}.get(user, set())
    view = start(ctx, "approval")
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    with pytest.raises(ValidationFailed):
        transfer_task(ctx, task.id, HEAD, "fin_li")
    with pytest.raises(PermissionDenied):
        transfer_task(ctx, task.id, STRANGER, "dr_li")
    transfer_task(ctx, task.id, HEAD, "dr_li", reason="出差")
    assert list_tasks(ctx, HEAD) == [] and task_of(ctx, HEAD2).id == task.id
    complete_task(ctx, task.id, HEAD2, outcome="approve")
    assert open_nodes(ctx, view.id) == [("finance_review", None)]


def test_transfer_a_countersign_vote(ctx):
    ctx.extras["roles_of"] = lambda user, inst: set()
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    with pytest.raises(ValidationFailed):  # e4 is no candidate of this step
        transfer_task(ctx, task_of(ctx, E1).id, E1, "e4")
    assert len(get_instance(ctx, view.id).open_tasks) == 3


def test_delegate_acts_then_the_task_returns_to_the_owner(ctx):
    view = start(ctx, "approval")
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    delegate_task(ctx, task.id, HEAD, "e1", reason="请帮忙初审")
    assert list_tasks(ctx, HEAD) == [] and task_of(ctx, E1).id == task.id
    with pytest.raises(PermissionDenied):
        complete_task(ctx, task.id, HEAD, outcome="approve")
    complete_task(ctx, task.id, E1, outcome="approve", data={"comment": "初审通过"})
    assert task_of(ctx, HEAD).id == task.id  # back to me, with their input prefilled
    assert get_task(ctx, task.id, HEAD).data["comment"] == "初审通过"
    assert ("dept_review", "completed", "delegate_done") in states(ctx, view.id)
    complete_task(ctx, task.id, HEAD, outcome="approve")
    assert open_nodes(ctx, view.id) == [("finance_review", None)]


def test_delegate_inside_a_countersign_and_refusals(ctx):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    task = task_of(ctx, E1)
    delegate_task(ctx, task.id, E1, "e4")
    with pytest.raises(Conflict):
        delegate_task(ctx, task.id, E4, "e2")
    complete_task(ctx, task.id, E4, outcome="approve")
    complete_task(ctx, task.id, E1, outcome="approve")  # the owner's vote counts
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    with pytest.raises(ValidationFailed):
        delegate_task(ctx, task.id, E1, "e1")


def test_parallel_branch_operations_do_not_touch_the_other_branch(ctx):
    view = start(ctx, "parallel")
    fin = claim_task(ctx, task_of(ctx, FINANCE).id, FINANCE)
    add_signer(ctx, fin.id, FINANCE, "e1", position="before")
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    complete_task(ctx, fin.id, FINANCE, outcome="approve")
    assert open_nodes(ctx, view.id) == [("b1_b", None)]
    complete_task(ctx, task_of(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_a_vote_cannot_move_to_someone_who_already_holds_one(ctx):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}, "dr_zhang": {"dept_head"}}.get(user, set())
    view = start(ctx, "approval")
    mine = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    add_signer(ctx, mine.id, HEAD, "dr_li", position="after")  # the step is now "dr_wang, then dr_li"
    with pytest.raises(Conflict, match="already holds a vote"):
        transfer_task(ctx, mine.id, HEAD, "dr_li")  # dr_li would approve twice
    # to someone outside the plan the vote moves, signer row and all
    transfer_task(ctx, mine.id, HEAD, "dr_zhang", reason="出差")
    signers = [(s.username, s.task_id, s.state) for s in list_signers(ctx, mine.id, ADMIN)]
    assert signers == [("dr_zhang", mine.id, "open"), ("dr_li", None, "pending")]
    complete_task(ctx, mine.id, Subject("dr_zhang", {"h1": frozenset({"dept_head"})}), outcome="approve")
    assert open_nodes(ctx, view.id) == [("dept_review", "dr_li")]


def test_admin_reassign_of_a_vote_refuses_a_second_vote_and_moves_the_signer(ctx):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    e1_task = task_of(ctx, E1)
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="approve")
    for holder in ("e2", "e3"):  # acted or not, a signer of the plan cannot take another vote
        with pytest.raises(Conflict, match="already holds a vote"):
            admin_reassign(ctx, e1_task.id, ADMIN, holder, reason="专家休假")
    admin_reassign(ctx, e1_task.id, ADMIN, "e4", reason="专家休假")
    assert [s.username for s in list_signers(ctx, e1_task.id, ADMIN)] == ["e4", "e2", "e3"]
    complete_task(ctx, e1_task.id, E4, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_the_last_signer_cannot_be_removed_nor_is_offered_for_removal(ctx):
    view = start(ctx, "countersign", rule="any", signers=["e1"])
    task = task_of(ctx, E1)
    [only] = list_signers(ctx, task.id, ADMIN)
    assert not only.removable and "remove_signer" not in task_actions(ctx, ADMIN, task.id)
    with pytest.raises(Conflict, match="last signer"):
        remove_signer(ctx, only.id, ADMIN, reason="不需要了")
    assert open_nodes(ctx, view.id) == [("cs_any", "e1")]
    # with a second signer, either one may go, but then not the other
    [added] = add_signer(ctx, task.id, E1, "e2", position="countersign")
    second = next(s for s in list_signers(ctx, task.id, ADMIN) if s.username == "e2")
    assert second.removable
    remove_signer(ctx, second.id, ADMIN, reason="不需要了")
    assert not any(s.removable for s in list_signers(ctx, task.id, ADMIN))
    assert added.assignee == "e2" and open_nodes(ctx, view.id) == [("cs_any", "e1")]


def test_add_signer_refusals(ctx):
    view = start(ctx, "approval")
    mine = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    with pytest.raises(Conflict, match="not a countersign"):
        add_signer(ctx, mine.id, HEAD, "e1", position="countersign")
    with pytest.raises(ValidationFailed, match="yourself"):
        add_signer(ctx, mine.id, HEAD, "dr_wang", position="after")
    for position in ("before", "after"):  # an admin cannot make the holder wait for, or follow, themselves
        with pytest.raises(ValidationFailed, match="holds this task"):
            add_signer(ctx, mine.id, ADMIN, "dr_wang", position=position)
    assert open_nodes(ctx, view.id) == [("dept_review", "dr_wang")] and list_signers(ctx, mine.id, HEAD) == []


def test_a_delegate_only_fills_the_form_the_owner_keeps_the_decisions(ctx):
    """委派: the delegate may submit (and comment); 转办, 退回, 加签 and re-delegating stay with the owner."""
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}}.get(user, set())
    view = start(ctx, "approval")
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    delegate_task(ctx, task.id, HEAD, "e4")
    offered = set(task_actions(ctx, E4, task.id))
    assert "complete" in offered and not offered & {"transfer", "delegate", "send_back", "add_signer"}
    with pytest.raises(Conflict, match="delegated"):
        transfer_task(ctx, task.id, E4, "dr_li")
    with pytest.raises(Conflict, match="退回"):
        send_back(ctx, task.id, E4, target="applicant", reason="材料不全")
    with pytest.raises(Conflict, match="加签"):
        add_signer(ctx, task.id, E4, "e1", position="after")
    with pytest.raises(Conflict, match="再委派"):
        delegate_task(ctx, task.id, E4, "e1")
    assert open_nodes(ctx, view.id) == [("dept_review", "e4")]
    with pytest.raises(PermissionDenied):  # the owner waits for the delegate
        transfer_task(ctx, task.id, HEAD, "dr_li")
    complete_task(ctx, task.id, E4, outcome="approve")
    transfer_task(ctx, task.id, HEAD, "dr_li", reason="出差")  # back with the owner: transfer works again
    assert task_of(ctx, HEAD2).id == task.id
