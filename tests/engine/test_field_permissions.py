"""Per-step hidden fields (approval.bpmn: `id_number` is hidden at finance_review) stay hidden and
unchangeable through every operation that shows or accepts that step's data."""
from __future__ import annotations

import pytest

from engine import (
    admin_approve,
    claim_task,
    complete_task,
    delegate_task,
    deploy,
    get_instance,
    get_task,
    send_back,
    start_instance,
)
from engine.errors import ValidationFailed
from tests.conftest import read_bundle
from tests.engine.operations.helpers import ADMIN, ALICE, EXPERTS, FINANCE, HEAD, MEDICAL, VALID, task_of

ID_NUMBER = "11010119900101123X"
E1 = EXPERTS["e1"]


def _started_with_id(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    view = start_instance(ctx, "approval", initiator="alice", institution="h1")
    complete_task(ctx, view.open_tasks[0].id, ALICE, data={**VALID, "id_number": ID_NUMBER})
    complete_task(ctx, task_of(ctx, HEAD, view.id).id, HEAD, outcome="approve")
    return view, task_of(ctx, FINANCE, view.id)


def _stored_id(ctx, instance_id):
    return get_instance(ctx, instance_id, with_data=True).data["id_number"]


def test_hidden_field_is_left_out_of_the_step_view(ctx):
    view, finance = _started_with_id(ctx)
    detail = get_task(ctx, finance.id, FINANCE)
    assert "id_number" not in detail.data and "id_number" not in detail.schema["properties"]
    assert detail.data["amount"] == 1200
    # the applicant's own (completed) step still shows it to them
    apply = next(t for t in get_instance(ctx, view.id).history if t.node_id == "apply")
    assert get_task(ctx, apply.id, ALICE).data["id_number"] == ID_NUMBER


def test_submission_that_changes_a_hidden_field_is_refused(ctx):
    view, finance = _started_with_id(ctx)
    with pytest.raises(ValidationFailed) as err:
        complete_task(ctx, finance.id, FINANCE, outcome="approve", data={"id_number": "110101199001011234"})
    assert [(e.pointer, e.validator) for e in err.value.errors] == [("/id_number", "hidden")]
    assert _stored_id(ctx, view.id) == ID_NUMBER
    assert task_of(ctx, FINANCE, view.id).id == finance.id  # still open, nothing applied


def test_a_hidden_field_cannot_be_probed_by_sending_its_value(ctx):
    """Were an unchanged value accepted, the answer (accepted or refused) would reveal the hidden value."""
    view, finance = _started_with_id(ctx)
    for guess in (ID_NUMBER, "110101199001011234"):
        with pytest.raises(ValidationFailed) as err:
            complete_task(ctx, finance.id, FINANCE, outcome="approve", data={"id_number": guess})
        assert err.value.errors[0].pointer == "/id_number"
    complete_task(ctx, finance.id, FINANCE, outcome="approve", data={"comment": "同意"})
    assert _stored_id(ctx, view.id) == ID_NUMBER


def test_hidden_under_delegate(ctx):
    view, finance = _started_with_id(ctx)
    task = claim_task(ctx, finance.id, FINANCE)
    delegate_task(ctx, task.id, FINANCE, "e1", reason="请帮忙初审")
    assert "id_number" not in get_task(ctx, task.id, E1).data
    with pytest.raises(ValidationFailed):
        complete_task(ctx, task.id, E1, outcome="approve", data={"id_number": "110101199001011234"})
    complete_task(ctx, task.id, E1, outcome="approve", data={"comment": "初审通过"})
    back = get_task(ctx, task.id, FINANCE)
    assert back.data["comment"] == "初审通过" and "id_number" not in back.data
    done = next(t for t in get_instance(ctx, view.id).history if t.outcome == "delegate_done")
    assert "id_number" not in get_task(ctx, done.id, E1).data
    complete_task(ctx, task.id, FINANCE, outcome="approve")
    assert _stored_id(ctx, view.id) == ID_NUMBER


def test_hidden_in_the_send_back_prefill(ctx):
    view, finance = _started_with_id(ctx)
    complete_task(ctx, finance.id, FINANCE, outcome="approve", data={"comment": "财务同意"})
    [again] = send_back(ctx, task_of(ctx, MEDICAL, view.id).id, MEDICAL, target="finance_review", reason="请复核")
    detail = get_task(ctx, again.id, FINANCE)
    assert detail.data["sent_back_reason"] == "请复核" and detail.data["comment"] == "财务同意"
    assert "id_number" not in detail.data and "id_number" not in detail.schema["properties"]
    # sent back to the applicant, who may see and change it
    [applicant] = send_back(ctx, again.id, FINANCE, target="applicant", reason="身份证号有误")
    assert get_task(ctx, applicant.id, ALICE).data["id_number"] == ID_NUMBER


def test_hidden_under_admin_approve(ctx):
    view, finance = _started_with_id(ctx)
    assert "id_number" not in get_task(ctx, finance.id, ADMIN).data
    with pytest.raises(ValidationFailed) as err:
        admin_approve(ctx, finance.id, ADMIN, reason="代审批", data={"id_number": "110101199001011234"})
    assert err.value.errors[0].pointer == "/id_number"
    created = admin_approve(ctx, finance.id, ADMIN, reason="代审批", data={"comment": "管理员代审"})
    assert [t.node_id for t in created] == ["medical_review"]
    assert _stored_id(ctx, view.id) == ID_NUMBER
    assert "id_number" not in get_task(ctx, finance.id, ADMIN).data  # the closed step's record too
