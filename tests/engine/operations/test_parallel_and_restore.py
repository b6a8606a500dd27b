"""转办, 委派, admin skip/reset on parallel branches, each run on a cached engine and on one that restores
every workflow from the stored state (`reopened`); admin skip/reset inside a countersign."""
from __future__ import annotations

import pytest

from engine import (
    admin_reset,
    admin_skip,
    check_consistency,
    claim_task,
    complete_task,
    delegate_task,
    get_instance,
    get_task,
    list_signers,
    timeline,
    transfer_task,
)
from engine.errors import Conflict
from tests.conftest import sql
from tests.engine.operations.helpers import (
    ADMIN,
    ALICE,
    E1,
    E2,
    E3,
    FINANCE,
    HEAD,
    HEAD2,
    MEDICAL,
    open_nodes,
    ready_spiff_tasks,
    reopened,
    start,
    states,
    task_of,
)


@pytest.fixture(params=["cached", "restored"])
def eng(request, ctx):
    """The engine each operation runs on: the test's own, or a fresh one restoring from the database."""
    return (lambda: ctx) if request.param == "cached" else (lambda: reopened(ctx))


def consistent(ctx, instance_id):
    assert check_consistency(reopened(ctx)) == []
    rows = sorted(n for n, _ in open_nodes(ctx, instance_id))
    assert sorted(set(ready_spiff_tasks(reopened(ctx), instance_id))) == sorted(set(rows))


def _finish_parallel(ctx, view_id):
    complete_task(ctx, task_of(ctx, MEDICAL, view_id).id, MEDICAL, outcome="approve")
    assert open_nodes(ctx, view_id) == [("archive", None)]
    consistent(ctx, view_id)


def test_transfer_on_one_branch_leaves_the_other_alone(ctx, eng):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_li": {"dept_head"}}.get(user, set())
    view = start(ctx, "parallel")
    b2 = claim_task(eng(), task_of(ctx, HEAD).id, HEAD)
    transfer_task(eng(), b2.id, HEAD, "dr_li", reason="出差")
    assert open_nodes(ctx, view.id) == [("b1_a", None), ("b2", "dr_li")]
    consistent(ctx, view.id)
    complete_task(eng(), task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    complete_task(eng(), b2.id, HEAD2, outcome="approve")
    _finish_parallel(ctx, view.id)


def test_delegate_on_one_branch_while_the_other_completes(ctx, eng):
    view = start(ctx, "parallel")
    b1 = claim_task(eng(), task_of(ctx, FINANCE).id, FINANCE)
    delegate_task(eng(), b1.id, FINANCE, "e1", reason="请帮忙初审")
    complete_task(eng(), task_of(ctx, HEAD).id, HEAD, outcome="approve")  # the sibling branch reaches the join
    assert open_nodes(ctx, view.id) == [("b1_a", "e1")]
    complete_task(eng(), b1.id, E1, outcome="approve", data={"comment": "初审通过"})
    assert get_task(eng(), b1.id, FINANCE).data["comment"] == "初审通过"
    consistent(ctx, view.id)
    complete_task(eng(), b1.id, FINANCE, outcome="approve")
    assert open_nodes(ctx, view.id) == [("b1_b", None)]
    _finish_parallel(ctx, view.id)


def test_admin_skip_one_branch_then_the_join_waits_for_the_other(ctx, eng):
    view = start(ctx, "parallel")
    assert admin_skip(eng(), task_of(ctx, HEAD).id, ADMIN, reason="科室主任休假") == []
    assert open_nodes(ctx, view.id) == [("b1_a", None)]
    consistent(ctx, view.id)
    complete_task(eng(), task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    _finish_parallel(ctx, view.id)
    assert get_instance(ctx, view.id, with_data=True).data["b2_outcome"] == "skipped"
    assert ("b2", "completed", "skipped") in states(ctx, view.id)


def test_admin_reset_inside_a_branch_and_above_the_split(ctx, eng):
    view = start(ctx, "parallel")
    complete_task(eng(), task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    # inside the branch: b1_b is rewound to b1_a, the sibling branch b2 keeps its open task
    created = admin_reset(eng(), view.id, ADMIN, "b1_a", reason="金额有误")
    assert [(t.node_id, t.assignee) for t in created] == [("b1_a", "fin_li")]
    assert open_nodes(ctx, view.id) == [("b1_a", "fin_li"), ("b2", None)]
    consistent(ctx, view.id)
    with pytest.raises(Conflict):  # b2 has not been completed: not a target
        admin_reset(eng(), view.id, ADMIN, "b2", reason="x")
    # above the split: both branches are dropped and run again after the applicant resubmits
    [apply] = admin_reset(eng(), view.id, ADMIN, "apply", reason="重新申请")
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    assert ("b2", "cancelled", None) in states(ctx, view.id)
    consistent(ctx, view.id)
    complete_task(eng(), apply.id, ALICE, data={"applicant_name": "张三", "amount": 900, "reason": "补充"})
    assert open_nodes(ctx, view.id) == [("b1_a", None), ("b2", None)]
    overrides = [e.action for e in timeline(ctx, view.id, ALICE) if e.override]
    assert overrides == ["admin.reset", "admin.reset"]


def test_admin_skip_inside_a_countersign(ctx, eng):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    complete_task(eng(), task_of(ctx, E1).id, E1, outcome="approve")
    e2 = task_of(ctx, E2)
    admin_skip(eng(), e2.id, ADMIN, reason="专家组无法召集")
    assert open_nodes(ctx, view.id) == [("archive", None)]  # "skipped" is not "reject": the default flow
    data = get_instance(ctx, view.id, with_data=True).data
    assert data["cs_ratio_outcome"] == "skipped"
    assert [v["signer"] for v in data["cs_ratio_votes"]] == ["e1"]
    assert {s.username: s.state for s in list_signers(ctx, e2.id, ADMIN)} == {
        "e1": "approved", "e2": "cancelled", "e3": "cancelled"}
    history = states(ctx, view.id)
    assert ("cs_ratio", "completed", "skipped") in history and ("cs_ratio", "cancelled", None) in history
    assert sql(ctx, "SELECT status, outcome FROM sign_plans WHERE instance_id = :i", i=view.id) == [
        ("cancelled", "skipped")]  # skipped is not recorded as a rejection
    consistent(ctx, view.id)


def test_admin_reset_out_of_a_running_countersign_starts_a_fresh_round(ctx, eng):
    view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    complete_task(eng(), task_of(ctx, E1).id, E1, outcome="approve")
    [apply] = admin_reset(eng(), view.id, ADMIN, "apply", reason="申请人需补充")
    assert open_nodes(ctx, view.id) == [("apply", "alice")]
    assert [s for s in states(ctx, view.id) if s[0] == "cs_ratio"].count(("cs_ratio", "cancelled", None)) == 2
    consistent(ctx, view.id)
    complete_task(eng(), apply.id, ALICE, data={"reason": "已补充"})
    assert sorted(a for _, a in open_nodes(ctx, view.id)) == ["e1", "e2", "e3"]
    # e1's vote of the first round does not count: one approval now is not yet 2 of 3
    complete_task(eng(), task_of(ctx, E2).id, E2, outcome="approve")
    assert len(get_instance(ctx, view.id).open_tasks) == 2
    complete_task(eng(), task_of(ctx, E3).id, E3, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    assert [v["signer"] for v in get_instance(ctx, view.id, with_data=True).data["cs_ratio_votes"]] == ["e2", "e3"]


def test_admin_reset_to_a_decided_countersign_asks_every_signer_again(ctx, eng):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    for signer in (E1, E2):
        complete_task(eng(), task_of(ctx, signer).id, signer, outcome="approve")
    assert open_nodes(ctx, view.id) == [("archive", None)]
    created = admin_reset(eng(), view.id, ADMIN, "cs_all", reason="会签需重新进行")
    assert sorted(t.assignee for t in created) == ["e1", "e2"]
    assert open_nodes(ctx, view.id) == [("cs_all", "e1"), ("cs_all", "e2")]
    consistent(ctx, view.id)
    complete_task(eng(), task_of(ctx, E1).id, E1, outcome="reject")
    assert get_instance(ctx, view.id, with_data=True).data["outcome"] == "reject"
