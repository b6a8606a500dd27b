"""Operations inside a called process (callActivity into a second process of the same bundle), and the
same tests on an embedded subProcess with the same step ids (embedded_review.bpmn).

Send-back semantics across the call boundary: from a step inside the called process, targets inside it
and targets before the call activity both work; once the call activity has finished, its inner steps are
no longer on the path (like a finished embedded subprocess), so a later step sends back before the call.
"""
from __future__ import annotations

import pytest

from engine import (
    add_signer,
    check_consistency,
    claim_task,
    complete_task,
    delegate_task,
    deploy,
    get_instance,
    get_task,
    list_tasks,
    send_back,
    transfer_task,
    withdraw,
)
from engine.errors import Conflict, PermissionDenied
from tests.conftest import read_bundle
from tests.engine.operations.helpers import (
    ALICE,
    ARCHIVIST,
    EXPERTS,
    FINANCE,
    HEAD,
    HEAD2,
    open_nodes,
    reopened,
    start,
    states,
    task_of,
)

E1 = EXPERTS["e1"]


@pytest.fixture(params=["callactivity", "embedded_review"])
def variant(request):
    return request.param


@pytest.fixture
def begin(variant):
    """Start an instance of the variant and submit the application: the review's first step is open."""
    return lambda ctx: start(ctx, variant)


def test_bundle_deploys_the_calling_process_with_the_called_steps(ctx):
    result = deploy(ctx, read_bundle("callactivity.bpmn"), actor="admin")
    assert result.process_key == "withcall"  # although review_proc comes first in the file
    view = start(ctx, "callactivity")
    assert view.process_key == "withcall"
    [task] = view.open_tasks
    assert (task.node_id, task.name, task.process_key) == ("c_dept", "科室审核", "withcall")


def test_complete_through_the_called_process_across_restore(ctx, begin):
    view = begin(ctx)
    complete_task(reopened(ctx), task_of(ctx, HEAD).id, HEAD, outcome="approve", data={"comment": "同意"})
    assert open_nodes(reopened(ctx), view.id) == [("c_finance", None)]
    complete_task(reopened(ctx), task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    data = get_instance(ctx, view.id, with_data=True).data
    # what was decided inside the called process comes back to the caller
    assert data["c_dept_outcome"] == "approve" and data["c_finance_outcome"] == "approve"
    complete_task(ctx, task_of(ctx, ARCHIVIST).id, ARCHIVIST)
    assert get_instance(ctx, view.id).status == "completed"
    assert check_consistency(ctx) == []


def test_send_back_within_the_called_process(ctx, begin):
    view = begin(ctx)
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    created = send_back(reopened(ctx), task_of(ctx, FINANCE).id, FINANCE, target="previous", reason="请复核")
    assert [(t.node_id, t.assignee) for t in created] == [("c_dept", "dr_wang")]
    assert get_task(ctx, created[0].id, HEAD).data["sent_back_reason"] == "请复核"
    assert check_consistency(ctx) == []
    complete_task(ctx, created[0].id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    nodes = [s[0] for s in states(ctx, view.id)]
    assert nodes.count("c_dept") == 2 and nodes.count("c_finance") == 2  # both rounds kept


def test_send_back_out_of_the_called_process_to_the_applicant(ctx, begin):
    view = begin(ctx)
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    created = send_back(ctx, task_of(ctx, FINANCE).id, FINANCE, target="apply", reason="材料不全")
    assert [(t.node_id, t.assignee) for t in created] == [("apply", "alice")]
    assert get_task(ctx, created[0].id, ALICE).data["reason"] == "购买耗材"  # the earlier submission
    assert check_consistency(ctx) == []
    complete_task(reopened(ctx), created[0].id, ALICE, data={"applicant_name": "张三", "amount": 900, "reason": "补充"})
    assert open_nodes(ctx, view.id) == [("c_dept", None)]  # the call activity starts the called process again
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    assert check_consistency(ctx) == []


def test_after_the_call_its_inner_steps_are_not_targets(ctx, begin):
    view = begin(ctx)
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    archive = task_of(ctx, ARCHIVIST)
    with pytest.raises(Conflict):
        send_back(ctx, archive.id, ARCHIVIST, target="c_finance", reason="x")
    created = send_back(ctx, archive.id, ARCHIVIST, target="applicant", reason="重新申请")
    assert [t.node_id for t in created] == ["apply"]
    assert open_nodes(ctx, view.id) == [("apply", "alice")]


def test_withdraw_inside_and_into_the_called_process(ctx, begin):
    view = begin(ctx)
    # the applicant withdraws while the called process's first step is untouched
    [again] = withdraw(ctx, view.id, ALICE, reason="填错了")
    assert again.node_id == "apply" and ("c_dept", "cancelled", None) in states(ctx, view.id)
    complete_task(ctx, again.id, ALICE, data={})
    # an approver inside the called process withdraws while the next inner step is untouched
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    [mine] = withdraw(reopened(ctx), view.id, HEAD, reason="再看看")
    assert (mine.node_id, mine.assignee) == ("c_dept", "dr_wang")
    assert open_nodes(ctx, view.id) == [("c_dept", "dr_wang")]
    assert check_consistency(ctx) == []
    complete_task(ctx, mine.id, HEAD, outcome="approve")
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    with pytest.raises(Conflict):  # finance acted after me
        withdraw(ctx, view.id, HEAD)


def test_add_signer_before_and_after_inside_the_called_process(ctx, begin):
    view = begin(ctx)
    mine = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    [theirs] = add_signer(ctx, mine.id, HEAD, "e1", position="before", reason="请专家先看")
    assert list_tasks(ctx, HEAD) == [] and theirs.node_id == "c_dept"
    complete_task(reopened(ctx), theirs.id, E1, outcome="approve", data={"comment": "可行"})
    assert get_task(ctx, mine.id, HEAD).data["comment"] == "可行"
    assert add_signer(ctx, mine.id, HEAD, "e2", position="after") == []
    complete_task(ctx, mine.id, HEAD, outcome="approve")
    assert open_nodes(reopened(ctx), view.id) == [("c_dept", "e2")]
    complete_task(ctx, task_of(ctx, EXPERTS["e2"]).id, EXPERTS["e2"], outcome="approve")
    assert open_nodes(ctx, view.id) == [("c_finance", None)]
    assert check_consistency(ctx) == []


def test_transfer_and_delegate_inside_the_called_process(ctx, begin):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}}.get(user, set())
    view = begin(ctx)
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    transfer_task(reopened(ctx), task.id, HEAD, "dr_li", reason="出差")
    with pytest.raises(PermissionDenied):
        complete_task(ctx, task.id, HEAD, outcome="approve")
    delegate_task(ctx, task.id, HEAD2, "e1", reason="请帮忙初审")
    complete_task(reopened(ctx), task.id, E1, outcome="approve", data={"comment": "初审通过"})
    assert task_of(ctx, HEAD2).id == task.id
    assert get_task(ctx, task.id, HEAD2).data["comment"] == "初审通过"
    complete_task(ctx, task.id, HEAD2, outcome="approve")
    assert open_nodes(ctx, view.id) == [("c_finance", None)]
    assert ("c_dept", "completed", "delegate_done") in states(ctx, view.id)
    assert check_consistency(ctx) == []
