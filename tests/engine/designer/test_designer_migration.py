"""Instance migration: safe and unsafe cases, one transaction each, audited (both databases)."""

from __future__ import annotations

import pytest

import engine
from engine.errors import ValidationFailed
from tests.conftest import sql
from tests.engine.designer.factories import triage

ALICE = engine.Subject("alice", {"h1": frozenset({"staff"})})
MA = engine.Subject("ma", {"h1": frozenset({"medical_affairs"})})


def _at(ctx, amount: int | None):
    view = engine.start_instance(
        ctx, "triage", initiator="alice", institution="h1", business_key=f"B{amount}"
    )
    if amount is not None:
        task = view.open_tasks[0]
        engine.complete_task(
            ctx, task.id, ALICE, data={"applicant_name": "张三", "amount": amount, "reason": "采购耗材"}
        )
    return view.id


def _v2():
    """finance_review removed; dept_review now goes to medical_affairs."""
    xml = triage('camunda:candidateGroups="medical_affairs" camunda:formKey="expense_review"')
    xml = xml.replace(
        '<bpmn:userTask id="finance_review" name="财务审核" camunda:candidateGroups="finance" '
        'camunda:formKey="expense_review"/>',
        "",
    )
    xml = xml.replace('<bpmn:sequenceFlow id="f3" sourceRef="finance_review" targetRef="end_ok"/>', "")
    return xml.replace('targetRef="finance_review"', 'targetRef="end_ok"')


def test_candidates_and_migration_report(ctx):
    engine.deploy_design(ctx, triage(), actor="admin")
    at_review, at_finance, at_apply = _at(ctx, 500), _at(ctx, 5), _at(ctx, None)
    engine.deploy_design(ctx, _v2(), actor="admin")

    found = {c.id: c for c in engine.migration_candidates(ctx, "triage", 1)}
    assert found[at_review].current == ["dept_review"] and found[at_review].migratable
    assert found[at_apply].migratable
    assert not found[at_finance].migratable and "finance_review" in found[at_finance].reason

    with pytest.raises(ValidationFailed):
        engine.migrate_instances(ctx, "triage", 1, 2, [at_review], actor="admin", reason=" ")
    report = engine.migrate_instances(
        ctx, "triage", 1, 2, [at_review, at_finance, "nope"], actor="admin", reason="财务审核取消"
    )
    assert [(r.id, r.status) for r in report] == [
        (at_review, "migrated"),
        (at_finance, "refused"),
        ("nope", "skipped"),
    ]

    moved = engine.get_instance(ctx, at_review)
    assert moved.definition_version == 2
    task = moved.open_tasks[0]
    assert task.node_id == "dept_review" and task.candidate_roles == ["medical_affairs"]
    assert engine.get_instance(ctx, at_finance).definition_version == 1
    done = engine.complete_task(ctx, task.id, MA, outcome="approve")
    assert done.instance.status == "completed"

    rows = sql(
        ctx,
        "SELECT instance_id, action, reason FROM audit_log "
        "WHERE action LIKE 'instance.migrate%' ORDER BY seq",
    )
    assert [(r[0], r[1]) for r in rows] == [
        (at_review, "instance.migrate"),
        (at_finance, "instance.migrate_refused"),
    ]
    assert rows[0][2] == "财务审核取消" and "finance_review" in rows[1][2]
    assert engine.verify_audit_chain(ctx).ok


def test_incompatible_new_form_is_refused(ctx):
    engine.deploy_design(ctx, triage(), actor="admin")
    at_review = _at(ctx, 500)
    strict = {
        "type": "object",
        "title": "严格审核",
        "properties": {"amount": {"type": "string", "title": "金额（文本）"}, "comment": {"type": "string"}},
        "required": ["comment"],
    }
    engine.save_form(ctx, "strict_review", strict, {}, actor="admin")
    engine.deploy_design(
        ctx, triage('camunda:candidateGroups="dept_head" camunda:formKey="strict_review"'), actor="admin"
    )
    [candidate] = engine.migration_candidates(ctx, "triage", 1)
    assert not candidate.migratable and "strict_review" in candidate.reason
    [result] = engine.migrate_instances(ctx, "triage", 1, None, [at_review], actor="admin", reason="换表单")
    assert result.status == "refused"

    lenient = {**strict, "properties": {"comment": {"type": "string"}}}
    engine.save_form(ctx, "strict_review", lenient, {}, actor="admin")
    engine.deploy_design(
        ctx, triage('camunda:candidateGroups="dept_head" camunda:formKey="strict_review"'), actor="admin"
    )
    [ok] = engine.migrate_instances(ctx, "triage", 1, 3, [at_review], actor="admin", reason="换表单")
    assert ok.status == "migrated"
    assert engine.get_instance(ctx, at_review).open_tasks[0].form_key == "strict_review"


def test_same_version_and_completed_instances_are_not_migratable(ctx):
    engine.deploy_design(ctx, triage(), actor="admin")
    instance = _at(ctx, 500)
    [same] = engine.migration_candidates(ctx, "triage", 1, 1)
    assert not same.migratable and same.id == instance
