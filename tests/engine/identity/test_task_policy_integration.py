"""The real production path: demo users logged in, Casbin policy hook installed, a shipped process.

Guards the seam between identity (Casbin decides role -> action) and the task layer (candidacy):
a dept head in the task's institution may complete it, a finance clerk may not, and another
institution's dept head may not either.
"""
from __future__ import annotations

import pytest

import engine
from engine.config import PROJECT_ROOT
from engine.errors import PermissionDenied
from tests.engine.identity.conftest import audit_actions, subject_of

GUEST_MEAL = {"applicant_name": "何霞", "department": "科教科", "meal_date": "2026-01-06", "meal_type": "lunch",
              "guest_count": 4, "standard_per_person": 150, "amount": 1500, "reason": "专家评审",
              "guests": [{"name": "钱教授", "organization": "某大学医学院"}]}


@pytest.fixture
def meal(ictx):
    ictx.settings = ictx.settings.model_copy(update={"forms_dir": PROJECT_ROOT / "forms"})
    folder = PROJECT_ROOT / "processes" / "approvals"
    engine.deploy(ictx, {"guest_meal.bpmn": (folder / "guest_meal.bpmn").read_bytes()}, actor="admin")
    view = engine.start_instance(ictx, "guest_meal", initiator="hexia", institution="rmyy_main", data=GUEST_MEAL)
    return ictx, view


def test_dept_head_completes_and_finance_gets_the_next_step(meal):
    ctx, view = meal
    assert "policy" in ctx.extras  # installed by login/resolve_session: the production decision path
    head = subject_of(ctx, "liuqiang")
    [task] = engine.list_tasks(ctx, head)
    result = engine.complete_task(ctx, task.id, head, outcome="approve", data={"comment": "同意"})
    assert [t.node_id for t in result.created] == ["finance_review"]
    finance = subject_of(ctx, "sunyan")
    assert [t.node_id for t in engine.list_tasks(ctx, finance)] == ["finance_review"]


def test_wrong_role_and_wrong_institution_are_refused(meal):
    ctx, view = meal
    task_id = view.open_tasks[0].id
    for username in ("sunyan", "tangwen"):  # finance in the same hospital; dept head of another hospital
        with pytest.raises(PermissionDenied) as refused:
            engine.complete_task(ctx, task_id, subject_of(ctx, username), outcome="approve")
        assert refused.value.audited  # the API's safety net must not audit it a second time
        assert audit_actions(ctx, username).count("access.denied") == 1


def test_transfer_to_another_eligible_head_uses_casbin_roles(meal):
    ctx, view = meal
    head = subject_of(ctx, "liuqiang")
    engine.transfer_task(ctx, view.open_tasks[0].id, head, username="zhujun", reason="出差")
    assert [t.node_id for t in engine.list_tasks(ctx, subject_of(ctx, "zhujun"))] == ["dept_head_review"]


def test_offered_actions_follow_the_casbin_policy(meal):
    """task_actions asks the same decision as the commands: finance may complete but not add signers."""
    ctx, view = meal
    head = subject_of(ctx, "liuqiang")
    first = view.open_tasks[0].id
    assert {"complete", "add_signer", "transfer"} <= set(engine.task_actions(ctx, head, first))
    [finance_task] = engine.complete_task(ctx, first, head, outcome="approve", data={"comment": "同意"}).created
    finance = subject_of(ctx, "sunyan")
    offered = engine.task_actions(ctx, finance, finance_task.id)
    assert "complete" in offered and "add_signer" not in offered  # no `task, add_signer` grant for finance
    with pytest.raises(PermissionDenied):
        engine.add_signer(ctx, finance_task.id, finance, "caolin", reason="请协助")
    assert engine.task_actions(ctx, subject_of(ctx, "tangwen"), finance_task.id) == []
