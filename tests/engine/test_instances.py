"""Start, complete, validate, idempotency and completion through the engine with persistence."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Subject, complete_task, deploy, get_instance, get_task, list_tasks, start_instance
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.conftest import read_bundle

ALICE = Subject("alice", {"h1": frozenset({"staff"})})
HEAD = Subject("dr_wang", {"h1": frozenset({"dept_head"})})
FINANCE = Subject("fin_li", {"h1": frozenset({"finance"})})
MEDICAL = Subject("med_zhao", {"h1": frozenset({"medical_affairs"})})
ARCHIVIST = Subject("archivist")
VALID = {"applicant_name": "张三", "amount": 1200, "reason": "购买耗材", "id_number": "11010119900101123X"}


@pytest.fixture
def deployed(ctx):
    return deploy(ctx, read_bundle("approval.bpmn"), actor="admin")


def _start(ctx, **kw):
    return start_instance(ctx, "approval", initiator="alice", institution="h1", business_key="B-1", **kw)


def _only_task(ctx, subject):
    [task] = list_tasks(ctx, subject)
    return task


def test_start_creates_first_task_for_the_applicant(ctx, deployed):
    view = _start(ctx)
    assert view.status == "running"
    [task] = view.open_tasks
    assert (task.node_id, task.assignee, task.institution) == ("apply", "alice", "h1")
    assert list_tasks(ctx, ALICE)[0].id == task.id
    assert list_tasks(ctx, HEAD) == []


def test_invalid_form_data_gives_field_errors_and_changes_nothing(ctx, deployed):
    view = _start(ctx)
    task = view.open_tasks[0]
    with pytest.raises(ValidationFailed) as err:
        complete_task(ctx, task.id, ALICE, data={"amount": -5, "id_number": "abc"})
    pointers = {e.pointer for e in err.value.errors}
    assert {"/amount", "/id_number", "/applicant_name", "/reason"} <= pointers
    assert get_instance(ctx, view.id).open_tasks[0].id == task.id


def test_full_path_with_due_dates_readonly_hidden_and_title(ctx, deployed, clock):
    view = _start(ctx)
    result = complete_task(ctx, view.open_tasks[0].id, ALICE, data=VALID)
    assert result.instance.title == "张三 申请 1200元"
    [review] = result.created
    assert review.node_id == "dept_review" and review.candidate_roles == ["dept_head"]
    assert review.due_at.replace(tzinfo=None) == clock.now().replace(tzinfo=None) + timedelta(days=2)
    assert _only_task(ctx, HEAD).id == review.id

    with pytest.raises(ValidationFailed) as err:
        complete_task(ctx, review.id, HEAD, outcome="approve", data={"amount": 1})
    assert [e.pointer for e in err.value.errors] == ["/amount"]

    complete_task(ctx, review.id, HEAD, outcome="approve", data={"comment": "同意"})
    finance = _only_task(ctx, FINANCE)
    detail = get_task(ctx, finance.id, FINANCE)
    assert "id_number" not in detail.data and "id_number" not in detail.schema["properties"]
    assert detail.data["amount"] == 1200

    complete_task(ctx, finance.id, FINANCE, outcome="approve")
    complete_task(ctx, _only_task(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    done = complete_task(ctx, _only_task(ctx, ARCHIVIST).id, ARCHIVIST, outcome="approve")
    assert done.instance.status == "completed" and done.instance.open_tasks == []
    assert [t.node_id for t in get_instance(ctx, view.id).history] == [
        "apply", "dept_review", "finance_review", "medical_review", "archive"]


def test_reject_loops_back_to_applicant_keeping_history(ctx, deployed):
    view = _start(ctx)
    complete_task(ctx, view.open_tasks[0].id, ALICE, data=VALID)
    complete_task(ctx, _only_task(ctx, HEAD).id, HEAD, outcome="reject", data={"comment": "补充材料"})
    again = _only_task(ctx, ALICE)
    assert again.node_id == "apply"
    assert get_task(ctx, again.id, ALICE).data["reason"] == "购买耗材"  # earlier round prefilled
    assert [t.outcome for t in get_instance(ctx, view.id).history] == [None, "reject"]


def test_wrong_actor_unknown_task_and_double_completion_are_refused(ctx, deployed):
    view = _start(ctx)
    task = view.open_tasks[0]
    with pytest.raises(PermissionDenied):
        complete_task(ctx, task.id, HEAD, data=VALID)
    with pytest.raises(NotFound):
        complete_task(ctx, "00000000-0000-0000-0000-000000000000", ALICE, data=VALID)
    complete_task(ctx, task.id, ALICE, data=VALID)
    with pytest.raises(Conflict):
        complete_task(ctx, task.id, ALICE, data=VALID)


def test_invalid_outcome_is_refused(ctx, deployed):
    view = _start(ctx)
    complete_task(ctx, view.open_tasks[0].id, ALICE, data=VALID)
    with pytest.raises(ValidationFailed):
        complete_task(ctx, _only_task(ctx, HEAD).id, HEAD, outcome="maybe")


def test_idempotency_key_returns_the_same_instance(ctx, deployed):
    first = _start(ctx, idempotency_key="req-1")
    second = _start(ctx, idempotency_key="req-1")
    third = _start(ctx, idempotency_key="req-2")
    assert first.id == second.id != third.id


def test_unknown_process_key(ctx):
    with pytest.raises(NotFound):
        start_instance(ctx, "nope", initiator="a", institution="h1")


def test_instance_is_pinned_to_its_version(ctx, deployed):
    old = _start(ctx)
    changed = read_bundle("approval.bpmn")
    changed["approval.bpmn"] = changed["approval.bpmn"].replace("医务处审核".encode(), "医务处复核".encode())
    v2 = deploy(ctx, changed, actor="admin")
    assert v2.version == 2
    new = _start(ctx)
    assert (get_instance(ctx, old.id).definition_version, new.definition_version) == (1, 2)
