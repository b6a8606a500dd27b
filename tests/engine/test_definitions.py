"""Deployment: immutable versions keyed by content hash; attributes kept; problems reported."""
from __future__ import annotations

import pytest

from engine import deploy, list_definitions, start_instance, validate_definition
from engine.errors import InvalidDefinition
from tests.conftest import read_bundle, sql
from tests.engine.test_validation import CORPUS, ELEMENT_LEVEL, EXPECTED_RULES


def test_same_content_is_not_redeployed_and_changes_get_a_new_version(ctx):
    first = deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    again = deploy(ctx, read_bundle("approval.bpmn"), actor="other")
    assert (first.version, first.created, again.version, again.created) == (1, True, 1, False)
    changed = read_bundle("approval.bpmn")
    changed["approval.bpmn"] = changed["approval.bpmn"].replace(b"P2D", b"P3D")
    assert deploy(ctx, changed, actor="admin").version == 2
    [summary] = list_definitions(ctx)
    assert (summary.process_key, summary.version) == ("approval", 2)


def test_camunda_and_hospital_attributes_are_kept(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    [summary] = list_definitions(ctx)
    review = summary.steps["dept_review"]["extensions"]
    assert review["candidateGroups"] == ["dept_head"]
    assert review["formKey"] == "expense_review"
    assert review["dueDate"] == "P2D"
    assert review["readonlyFields"] == ["amount", "applicant_name"]
    assert summary.steps["apply"]["extensions"]["assigneeExpr"] == "initiator"
    assert summary.steps["archive"]["extensions"]["candidateUsers"] == ["archivist"]
    assert summary.attributes["title"] == "{applicant_name} 申请 {amount}元"


def test_static_camunda_assignee_is_kept_and_assigns_the_task(ctx):
    bundle = read_bundle("approval.bpmn")
    bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(
        b'hospital:assigneeExpr="initiator"', b'camunda:assignee="clerk_zhou"')
    deploy(ctx, bundle, actor="admin")
    [summary] = list_definitions(ctx)
    assert summary.steps["apply"]["extensions"]["assignee"] == "clerk_zhou"
    [task] = start_instance(ctx, "approval", initiator="alice", institution="h1").open_tasks
    assert (task.node_id, task.assignee) == ("apply", "clerk_zhou")


def test_spec_is_stored_once_per_definition_not_per_instance(ctx):
    from engine import start_instance
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    start_instance(ctx, "approval", initiator="a", institution="h1")
    [(state,)] = sql(ctx, "select state from instances")
    assert '"task_specs"' not in state and '"spec"' not in state


def test_missing_form_is_reported_with_the_element(ctx):
    bundle = read_bundle("approval.bpmn")
    bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(b'camunda:formKey="expense"', b'camunda:formKey="nope"')
    problems = validate_definition(ctx, bundle)
    assert [(d.element_id, d.rule) for d in problems] == [("apply", "form-exists")]
    with pytest.raises(InvalidDefinition) as err:
        deploy(ctx, bundle, actor="admin")
    assert "nope" in err.value.diagnostics[0].message
    assert sql(ctx, "select count(*) from definitions")[0][0] == 0


def test_uploaded_forms_travel_with_the_bundle(ctx):
    bundle = read_bundle("approval.bpmn")
    bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(
        b'camunda:formKey="expense"', b'camunda:formKey="new_form"')
    bundle["new_form.schema.json"] = b'{"type": "object", "properties": {"x": {"type": "string"}}}'
    assert deploy(ctx, bundle, actor="admin").created


def test_form_keys_cannot_name_paths(ctx):
    for hostile in ("../../etc/passwd", "x" * 300, "a/b"):
        bundle = read_bundle("approval.bpmn")
        bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(
            b'camunda:formKey="expense"', f'camunda:formKey="{hostile}"'.encode())
        assert [(d.element_id, d.rule) for d in validate_definition(ctx, bundle)] == [("apply", "form-key")]


@pytest.mark.parametrize("name", ELEMENT_LEVEL)
def test_deploy_refuses_unsupported_definitions_and_writes_nothing(ctx, name):
    with pytest.raises(InvalidDefinition) as err:
        deploy(ctx, {name: (CORPUS / "invalid" / name).read_bytes()}, actor="admin")
    assert EXPECTED_RULES[name] in {d.rule for d in err.value.diagnostics}
    assert all(d.element_id and d.line for d in err.value.diagnostics if d.rule == EXPECTED_RULES[name])
    assert sql(ctx, "select count(*) from definitions") == [(0,)]
    assert sql(ctx, "select count(*) from audit_log") == [(0,)]
    assert sql(ctx, "select seq from audit_head") == [(0,)]
