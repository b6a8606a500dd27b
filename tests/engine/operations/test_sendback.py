"""退回 / 撤回: to the applicant, previous or a chosen step; out of a countersign; across a parallel split;
inside an embedded subprocess; history keeps both rounds; withdraw while the next step is untouched."""
from __future__ import annotations

import pytest

from engine import complete_task, get_instance, get_task, send_back, timeline, withdraw
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.engine.operations.helpers import (
    ALICE,
    E1,
    E2,
    E3,
    EXPERTS,
    FINANCE,
    HEAD,
    MEDICAL,
    open_nodes,
    reopened,
    start,
    states,
    task_of,
)


def test_send_back_to_applicant_prefills_and_history_keeps_both_rounds(ctx):
    view = start(ctx, "parallel")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    created = send_back(ctx, task_of(ctx, MEDICAL).id, MEDICAL, target="applicant", reason="材料不全")
    assert [(t.node_id, t.assignee) for t in created] == [("apply", "alice")]
    # across the parallel split: the sibling branch's open task is cancelled too
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    assert ("b2", "cancelled", None) in states(ctx, view.id)
    detail = get_task(ctx, created[0].id, ALICE)
    assert detail.data["reason"] == "购买耗材" and detail.data["sent_back_reason"] == "材料不全"
    complete_task(ctx, created[0].id, ALICE, data={"applicant_name": "张三", "amount": 900, "reason": "补充"})
    assert open_nodes(ctx, view.id) == [("b1_a", None), ("b2", None)]  # the split runs again
    nodes = [s[0] for s in states(ctx, view.id)]
    assert nodes.count("apply") == 2 and nodes.count("b1_a") == 1
    assert any(e.action == "task.send_back" and e.reason == "材料不全" for e in timeline(ctx, view.id, ALICE))


def test_send_back_inside_one_branch_leaves_the_sibling_alone(ctx):
    view = start(ctx, "parallel")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    created = send_back(reopened(ctx), task_of(ctx, MEDICAL).id, MEDICAL, target="b1_a", reason="金额有误")
    assert [(t.node_id, t.assignee) for t in created] == [("b1_a", "fin_li")]
    assert open_nodes(ctx, view.id) == [("b1_a", "fin_li"), ("b2", None)]
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, created[0].id, FINANCE, outcome="approve")
    complete_task(ctx, task_of(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_send_back_to_previous_and_refused_targets(ctx):
    view = start(ctx, "parallel")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    medical = task_of(ctx, MEDICAL)
    with pytest.raises(Conflict):  # b2 is a sibling branch, not on the path taken to b1_b
        send_back(ctx, medical.id, MEDICAL, target="b2", reason="x")
    with pytest.raises(Conflict):  # archive has not been reached
        send_back(ctx, medical.id, MEDICAL, target="archive", reason="x")
    with pytest.raises(ValidationFailed):
        send_back(ctx, medical.id, MEDICAL, target="previous", reason=" ")
    with pytest.raises(PermissionDenied):
        send_back(ctx, medical.id, FINANCE, target="previous", reason="x")
    created = send_back(ctx, medical.id, MEDICAL, target="previous", reason="请复核")
    assert [t.node_id for t in created] == ["b1_a"]
    with pytest.raises(Conflict):
        send_back(ctx, medical.id, MEDICAL, target="previous", reason="again")
    assert ("b1_b", "completed", "sent_back") in states(ctx, view.id)


def test_send_back_out_of_a_countersign_cancels_the_other_votes(ctx):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    send_back(ctx, task_of(ctx, E2).id, E2, target="applicant", reason="请补充说明")
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    history = states(ctx, view.id)
    assert ("cs_ratio", "completed", "approve") in history and ("cs_ratio", "cancelled", None) in history
    complete_task(ctx, task_of(ctx, ALICE).id, ALICE, data={"reason": "已补充说明"})
    # a new round: every signer votes again, the earlier vote stays in history only
    assert open_nodes(ctx, view.id) == [("cs_ratio", "e1"), ("cs_ratio", "e2"), ("cs_ratio", "e3")]


def test_send_back_inside_an_embedded_subprocess(ctx):
    view = start(ctx, "subprocess", signers=["e1", "e2", "e3"])
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    created = send_back(reopened(ctx), task_of(ctx, E2).id, E2, target="s1", reason="重新审核")
    assert [(t.node_id, t.assignee) for t in created] == [("s1", "dr_wang")]
    complete_task(ctx, created[0].id, HEAD, outcome="approve")
    assert [n for n, _ in open_nodes(ctx, view.id)] == ["s2", "s2", "s2"]
    # out of the subprocess, to the applicant
    created = send_back(ctx, task_of(ctx, E3).id, EXPERTS["e3"], target="applicant", reason="退回申请人")
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    complete_task(ctx, created[0].id, ALICE, data={})
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    for signer in (E1, E2):
        complete_task(ctx, task_of(ctx, signer).id, signer, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_applicant_withdraws_while_next_step_untouched(ctx):
    view = start(ctx, "approval")
    assert open_nodes(ctx, view.id) == [("dept_review", None)]
    with pytest.raises(NotFound):  # the department head has nothing of theirs to withdraw
        withdraw(ctx, view.id, HEAD)
    created = withdraw(ctx, view.id, ALICE, reason="填错了")
    assert [(t.node_id, t.assignee) for t in created] == [("apply", "alice")]
    assert ("dept_review", "cancelled", None) in states(ctx, view.id)
    assert get_task(ctx, created[0].id, ALICE).data["amount"] == 1200


def test_withdraw_refused_once_the_next_step_acted(ctx):
    view = start(ctx, "approval")
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve", data={})
    with pytest.raises(Conflict):
        withdraw(ctx, view.id, ALICE)
    with pytest.raises(NotFound):
        withdraw(ctx, view.id, MEDICAL)
    # the approver may withdraw their own approval while finance has not acted
    created = withdraw(ctx, view.id, HEAD, reason="再看看")
    assert [(t.node_id, t.assignee) for t in created] == [("dept_review", "dr_wang")]


def test_withdraw_a_vote_inside_a_running_countersign(ctx):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    [again] = withdraw(ctx, view.id, E1, reason="投错了")
    assert again.assignee == "e1" and again.node_id == "cs_ratio"
    complete_task(ctx, again.id, E1, outcome="reject")
    complete_task(ctx, task_of(ctx, E2).id, E2, outcome="reject")
    assert get_instance(ctx, view.id).status == "completed"


def test_withdraw_a_branch_approval_while_the_sibling_branch_is_open(ctx):
    view = start(ctx, "parallel")
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")  # the join waits for b1
    [again] = withdraw(reopened(ctx), view.id, HEAD, reason="再看看")
    assert (again.node_id, again.assignee) == ("b2", "dr_wang")
    assert open_nodes(ctx, view.id) == [("b1_a", None), ("b2", "dr_wang")]  # the other branch is untouched
    complete_task(ctx, again.id, HEAD, outcome="approve")
    for subject in (FINANCE, MEDICAL):
        complete_task(ctx, task_of(ctx, subject).id, subject, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]  # the join fires once, with both branches


def test_withdraw_a_branch_approval_after_the_sibling_branch_moved_on(ctx):
    view = start(ctx, "parallel")
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")  # later, but not after b2
    [again] = withdraw(ctx, view.id, HEAD)
    assert open_nodes(ctx, view.id) == [("b1_b", None), ("b2", "dr_wang")]
    # finance may take theirs back too: b1_b (below b1_a) is untouched, b2 is a sibling
    [fin] = withdraw(ctx, view.id, FINANCE)
    assert open_nodes(ctx, view.id) == [("b1_a", "fin_li"), ("b2", "dr_wang")]
    complete_task(ctx, fin.id, FINANCE, outcome="approve")
    complete_task(ctx, task_of(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    complete_task(ctx, again.id, HEAD, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]


@pytest.mark.parametrize("last", ["b2", "b1_b"])
def test_withdraw_refused_once_the_branches_joined(ctx, last):
    view = start(ctx, "parallel")
    order = [FINANCE, MEDICAL, HEAD] if last == "b2" else [HEAD, FINANCE, MEDICAL]
    for subject in order:
        complete_task(ctx, task_of(ctx, subject).id, subject, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    carried, merged = (HEAD, MEDICAL) if last == "b2" else (MEDICAL, HEAD)
    with pytest.raises(Conflict, match="joined"):
        withdraw(ctx, view.id, carried)
    with pytest.raises(Conflict, match="moved on"):  # that branch was merged into the other one
        withdraw(ctx, view.id, merged)
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_withdraw_into_and_inside_an_embedded_subprocess(ctx):
    view = start(ctx, "subprocess", signers=["e1", "e2", "e3"])
    withdraw(ctx, view.id, ALICE)  # the next step (s1) is inside the subprocess
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    complete_task(ctx, task_of(ctx, ALICE).id, ALICE, data={})
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    [again] = withdraw(reopened(ctx), view.id, HEAD)  # the countersign after s1 has no vote yet
    assert (again.node_id, again.assignee) == ("s1", "dr_wang") and open_nodes(ctx, view.id) == [("s1", "dr_wang")]
    complete_task(ctx, again.id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    with pytest.raises(Conflict, match="acted on"):  # a vote is an action on the next step
        withdraw(ctx, view.id, HEAD)


def test_withdraw_refused_once_the_countersign_decided(ctx):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    complete_task(ctx, task_of(ctx, E3).id, E3, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    with pytest.raises(Conflict, match="decided"):  # rewinding would throw away e3's vote as well
        withdraw(ctx, view.id, E1)
    assert open_nodes(ctx, view.id) == [("archive", None)]
