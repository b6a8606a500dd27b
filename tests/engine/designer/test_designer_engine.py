"""Designer engine: lint, drafts/forms, diff, dry-run, import report, export round trip."""
# ruff: noqa: E501  (BPMN fixtures are clearer on one line)

from __future__ import annotations

import dataclasses
import json

import pytest

import engine
from engine import cli
from engine.errors import InvalidDefinition, NotFound
from tests.conftest import DATA
from tests.engine.designer.factories import bad_triage, triage


def _by_rule(diags):
    return {(d.element_id, d.rule) for d in diags}


def test_validate_reports_hospital_rules_with_lines(ctx):
    diags = engine.validate_design(ctx, bad_triage())
    found = _by_rule(diags)
    assert ("dept_review", "user-task-candidates") in found
    assert ("dept_review", "user-task-form") in found
    assert ("finance_review", "unknown-role") in found
    assert all(d.line for d in diags if d.element_id == "dept_review")
    assert engine.validate_design(ctx, triage()) == []


def test_malformed_xml_is_invalid_definition_with_line(ctx):
    with pytest.raises(InvalidDefinition) as err:
        engine.validate_design(ctx, "<bpmn:definitions xmlns:bpmn='x'>\n<oops")
    assert err.value.diagnostics[0].line == 2


def test_deploy_refuses_errors_and_snapshots_draft_forms(ctx):
    with pytest.raises(InvalidDefinition) as err:
        engine.deploy_design(ctx, bad_triage(), actor="admin")
    assert {d.element_id for d in err.value.diagnostics} >= {"dept_review", "finance_review"}

    schema = {
        "type": "object",
        "title": "新审核",
        "properties": {"comment": {"type": "string", "title": "意见"}},
    }
    engine.save_form(ctx, "triage_review", schema, {"order": ["comment"]}, actor="admin")
    assert engine.get_form(ctx, "triage_review").source == "draft"
    assert "triage_review" in {f.key for f in engine.list_forms(ctx)}
    xml = triage('camunda:candidateGroups="dept_head" camunda:formKey="triage_review"')
    result = engine.deploy_design(ctx, xml, actor="admin", comment="首版")
    assert (result.process_key, result.version, result.created) == ("triage", 1, True)
    versions = [v for v in engine.list_versions(ctx) if v.key == "triage"]
    assert [(v.version, v.comment) for v in versions] == [(1, "首版")]
    assert engine.definition_xml(ctx, "triage", 1).xml == xml


def test_save_form_rejects_bad_schema(ctx):
    with pytest.raises(InvalidDefinition):
        engine.save_form(ctx, "bad", {"type": "array"}, {}, actor="admin")
    with pytest.raises(InvalidDefinition):
        engine.save_form(ctx, "../evil", {"type": "object"}, {}, actor="admin")
    with pytest.raises(NotFound):
        engine.get_form(ctx, "nope")


def test_drafts_round_trip_and_show_in_versions(ctx):
    engine.save_draft(ctx, "triage", triage(), actor="admin")
    assert engine.load_draft(ctx, "triage").xml == triage()
    assert [(v.key, v.version) for v in engine.list_versions(ctx)] == [("triage", 0)]
    assert engine.definition_xml(ctx, "triage").draft is True
    with pytest.raises(InvalidDefinition):
        engine.save_draft(ctx, "other", triage(), actor="admin")
    with pytest.raises(NotFound):
        engine.load_draft(ctx, "nope")


def test_diff_against_latest_version(ctx):
    engine.deploy_design(ctx, triage(), actor="admin")
    changed_xml = triage(
        'camunda:candidateGroups="dept_head,medical_affairs" camunda:formKey="expense_review" '
        'hospital:countersign="all"',
        extra='<bpmn:userTask id="archive" name="归档" camunda:candidateGroups="finance" '
        'camunda:formKey="expense_review"/>',
    )
    changed_xml = changed_xml.replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="finance_review" targetRef="end_ok"/>',
        '<bpmn:sequenceFlow id="f3b" sourceRef="finance_review" targetRef="end_ok"/>',
    )
    schema = json.loads((DATA / "forms" / "expense_review.schema.json").read_text("utf-8"))
    schema["properties"]["extra"] = {"type": "string"}
    engine.save_form(ctx, "expense_review", schema, {}, actor="admin")
    diff = engine.diff_design(ctx, changed_xml)
    assert diff.against_version == 1
    assert "archive" in diff.added and "f3b" in diff.added and "f3" in diff.removed
    fields = {c.id: c.fields for c in diff.changed}
    assert {"camunda:candidateGroups", "hospital:countersign"} <= set(fields["dept_review"])
    assert diff.forms_changed == ["expense_review"]


def test_diff_without_deployed_version_lists_everything_as_added(ctx):
    diff = engine.diff_design(ctx, triage())
    assert diff.against_version is None and "dept_review" in diff.added and diff.removed == []


def test_dry_run_branches_by_data_and_outcomes(ctx):
    xml = triage(
        'camunda:candidateGroups="dept_head" camunda:formKey="expense_review" hospital:countersign="ratio:2/3" '
        "hospital:signersExpr=\"['a', 'b', 'c']\""
    )
    big = engine.dry_run(ctx, xml, {"amount": 500}, {"dept_review": "approve"})
    assert [t.element_id for t in big.tasks] == ["apply", "dept_review"]
    assert big.tasks[0].assignee == "dry_run"
    review = big.tasks[1]
    assert (
        review.roles == ["dept_head"]
        and review.countersign == "ratio:2/3"
        and review.signers == ["a", "b", "c"]
    )
    assert big.end_state == "completed:end_ok"
    assert big.path.index("f_big") < big.path.index("dept_review") < big.path.index("f_yes")

    rejected = engine.dry_run(ctx, xml, {"amount": 500}, {"dept_review": "reject"})
    assert rejected.end_state == "completed:end_no" and "f_no" in rejected.path

    small = engine.dry_run(ctx, xml, {"amount": 5})
    assert [t.element_id for t in small.tasks] == ["apply", "finance_review"]
    assert "dept_review" not in small.path and "f_small" in small.path


def test_dry_run_reports_script_errors_as_end_state(ctx):
    xml = triage().replace(
        "<bpmn:conditionExpression>amount &gt; 100", "<bpmn:conditionExpression>missing_var &gt; 1"
    )
    result = engine.dry_run(ctx, xml, {"amount": 5})
    assert result.end_state.startswith("error:")


def test_dry_run_writes_nothing(ctx):
    before = engine.find_instances(ctx)
    engine.dry_run(ctx, triage(), {"amount": 500})
    assert engine.find_instances(ctx) == before


CAMUNDA = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  id="d" targetNamespace="http://x">
  <bpmn:process id="imported" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" camunda:candidateGroups="dept_head" camunda:formKey="expense_review"
        camunda:dueDate="P2D" camunda:assignee="${initiator}" camunda:candidateUsers="wang">
      <bpmn:extensionElements>
        <camunda:taskListener event="create" class="x.Listener"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="java" camunda:class="org.x.Delegate"/>
    <bpmn:serviceTask id="expr" camunda:expression="${bean.call()}"/>
    <bpmn:serviceTask id="deleg" camunda:delegateExpression="${delegate}"/>
    <bpmn:serviceTask id="conn">
      <bpmn:extensionElements>
        <camunda:connector><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>
        <camunda:inputOutput>
          <camunda:inputParameter name="url">https://x</camunda:inputParameter>
          <camunda:inputParameter name="payload"><camunda:script scriptFormat="groovy">1</camunda:script></camunda:inputParameter>
        </camunda:inputOutput>
        <camunda:executionListener event="start" expression="${x}"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="ext" camunda:type="external" camunda:topic="his.check_archive"/>
    <bpmn:serviceTask id="z"><bpmn:extensionElements><zeebe:taskDefinition type="x"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review">
      <bpmn:conditionExpression>${approved == true}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""


def test_import_maps_supported_and_reports_unsupported(ctx):
    result = engine.import_bpmn(
        CAMUNDA, roles={"dept_head"}, forms={"expense_review"}, connectors={"his.check_archive"}
    )
    status = {(i.element_id, i.attribute): i.status for i in result.report}
    for attr in (
        "camunda:candidateGroups",
        "camunda:formKey",
        "camunda:dueDate",
        "camunda:assignee",
        "camunda:candidateUsers",
    ):
        assert status[("review", attr)] == "mapped", attr
    assert status[("ext", "camunda:topic")] == "mapped"
    for key in [
        ("java", "camunda:class"),
        ("expr", "camunda:expression"),
        ("deleg", "camunda:delegateExpression"),
        ("review", "camunda:taskListener"),
        ("conn", "camunda:connector"),
        ("conn", "camunda:inputParameter[payload]"),
        ("conn", "camunda:executionListener"),
        ("z", "zeebe:taskDefinition"),
        ("f1", "conditionExpression"),
        ("imported", "camunda:historyTimeToLive"),
    ]:
        assert status[key] == "unsupported", key
    assert status[("conn", "camunda:inputParameter[url]")] == "mapped"
    assert 'hospital:assigneeExpr="initiator"' in result.xml and "camunda:class" in result.xml


def test_export_round_trip_redeploys_identically(ctx, tmp_path):
    engine.save_form(
        ctx,
        "triage_review",
        {"type": "object", "title": "T", "properties": {"c": {"type": "string"}}},
        {"order": ["c"]},
        actor="admin",
    )
    xml = triage('camunda:candidateGroups="dept_head" camunda:formKey="triage_review"')
    first = engine.deploy_design(ctx, xml, actor="admin")
    out, forms = tmp_path / "processes" / "triage", tmp_path / "forms"
    result = engine.export_definition(ctx, "triage", out, version=1, forms_dir=forms)
    assert (out / "triage.bpmn").read_text("utf-8") == xml
    assert json.loads((forms / "triage_review.ui.json").read_text("utf-8")) == {"order": ["c"]}
    assert (forms / "expense.schema.json").exists() and len(result.written) >= 4
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    files.update({p.name: p.read_bytes() for p in forms.iterdir()})
    again = engine.deploy(ctx, files, actor="cli")
    assert (again.version, again.created) == (first.version, False)
    with pytest.raises(NotFound):
        engine.export_definition(ctx, "triage", out, version=9, forms_dir=forms)


def test_catalogs(ctx):
    roles = {r.key: r.title for r in engine.list_roles(ctx)}
    assert roles["process_admin"] == "流程管理员" and roles["dept_head"] == "科室主任"
    topics = {c.topic: c for c in engine.list_connectors(ctx)}
    assert "his.check_archive" in topics and topics["his.check_archive"].params


def test_cli_export(ctx, tmp_path, monkeypatch, capsys):
    engine.deploy_design(ctx, triage(), actor="admin")
    monkeypatch.setattr(engine, "open_engine", lambda: ctx)
    code = cli.main(
        [
            "export",
            "triage",
            "--version",
            "1",
            "--out",
            str(tmp_path / "p"),
            "--forms-dir",
            str(tmp_path / "f"),
        ]
    )
    assert code == 0 and "triage v1" in capsys.readouterr().out
    assert (tmp_path / "p" / "triage.bpmn").read_text("utf-8") == triage()
    assert cli.main(["export", "nope", "--out", str(tmp_path / "p")]) == 2


@pytest.mark.parametrize(
    "path", sorted((DATA.parents[2] / "processes").rglob("*.bpmn")), ids=lambda p: p.stem
)
def test_shipped_processes_pass_the_designer_lint(ctx, path):
    repo = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"forms_dir": DATA.parents[2] / "forms"})
    )
    errors = [d for d in engine.validate_design(repo, path.read_text("utf-8")) if d.severity == "error"]
    assert errors == [], [(d.element_id, d.rule, d.message) for d in errors]


def test_dry_run_takes_the_chosen_branch_of_an_event_based_gateway(ctx):
    xml = (DATA.parent.parent / "background" / "data" / "bg_event_gateway.bpmn").read_text(encoding="utf-8")
    first = engine.dry_run(ctx, xml, {"deadline_days": 3})
    assert first.end_state == "completed:end" and first.path[:6] == ["start", "f0", "gw_wait", "f_paid", "msg_paid", "f1"]
    cancelled = engine.dry_run(ctx, xml, {"deadline_days": 3}, task_data={"msg_cancel": {"by": "patient"}})
    assert cancelled.end_state == "completed:end_other" and cancelled.data["ended_by"] == "cancel"
    assert "msg_cancel" in cancelled.path and "msg_paid" not in cancelled.path
    assert cancelled.data["patient_cancel"] == {"by": "patient"}  # the payload under the message name
    expired = engine.dry_run(ctx, xml, {"deadline_days": 3}, task_data={"timer_expired": {}})
    assert expired.data["ended_by"] == "expired"


REVIEW = 'camunda:candidateGroups="dept_head" camunda:formKey="expense_review"'
PROCESS_ATTRS = 'hospital:title="{applicant_name}"'


def _review(attrs: str) -> str:
    return triage(f"{REVIEW} {attrs}")


def _task(xml: str) -> str:
    return triage(extra=xml)


def _process(attrs: str) -> str:
    return triage().replace(PROCESS_ATTRS, f"{PROCESS_ATTRS} {attrs}")


def _message_catch(definition_attrs: str) -> str:
    return triage(
        extra=f'<bpmn:intermediateCatchEvent id="wait_pay"><bpmn:messageEventDefinition id="wait_pay_def" '
        f'messageRef="msg_pay" {definition_attrs}/></bpmn:intermediateCatchEvent>'
    ).replace("</bpmn:process>", '</bpmn:process>\n  <bpmn:message id="msg_pay" name="payment_result"/>')


def _lane(attrs: str) -> str:
    return triage(
        extra=f'<bpmn:laneSet id="lanes"><bpmn:lane id="lane_fin" {attrs}>'
        "<bpmn:flowNodeRef>finance_review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
    )


NO_DEFAULT = '<bpmn:exclusiveGateway id="gw_amount"/>'
SMALL_FLOW = '<bpmn:sequenceFlow id="f_small" sourceRef="gw_amount" targetRef="finance_review"/>'

# (xml, element id, rule, severity the finding must have, or None: the rule must not fire there)
LINT_CASES = {
    "gateway without default and a bare flow": (
        triage().replace('<bpmn:exclusiveGateway id="gw_amount" default="f_small"/>', NO_DEFAULT),
        "gw_amount", "gateway-conditions", "error",
    ),
    "gateway with conditions on every flow": (
        triage()
        .replace('<bpmn:exclusiveGateway id="gw_amount" default="f_small"/>', NO_DEFAULT)
        .replace(SMALL_FLOW, SMALL_FLOW[:-2] + "><bpmn:conditionExpression>amount &lt;= 100</bpmn:conditionExpression></bpmn:sequenceFlow>"),
        "gw_amount", "gateway-conditions", None,
    ),
    "gateway with a default flow": (triage(), "gw_amount", "gateway-conditions", None),
    "service task without connector": (_task('<bpmn:serviceTask id="call"/>'), "call", "connector-missing", "error"),
    "service task with an unknown connector": (
        _task('<bpmn:serviceTask id="call" camunda:type="external" camunda:topic="his.nope"/>'),
        "call", "unknown-connector", "warning",
    ),
    "service task with a registered connector": (
        _task('<bpmn:serviceTask id="call" camunda:type="external" camunda:topic="http.request"/>'),
        "call", "unknown-connector", None,
    ),
    "camunda:class": (
        _task('<bpmn:serviceTask id="call" camunda:type="external" camunda:topic="notify.staff" camunda:class="x.Y"/>'),
        "call", "unsupported", "error",
    ),
    "camunda:asyncBefore": (_review('camunda:asyncBefore="true"'), "dept_review", "unsupported", "error"),
    "camunda task listener": (
        triage().replace(
            f'name="科室会签" {REVIEW}/>',
            f'name="科室会签" {REVIEW}><bpmn:extensionElements><camunda:taskListener event="create" class="x.L"/>'
            "</bpmn:extensionElements></bpmn:userTask>",
        ),
        "dept_review", "unsupported", "error",
    ),
    "camunda:resultVariable on a message event definition": (
        _message_catch('camunda:resultVariable="payment_result"'), "wait_pay_def", "unsupported", None,
    ),
    "SLA not ISO-8601": (_review('hospital:sla="4 hours"'), "dept_review", "sla-format", "error"),
    "SLA duration": (_review('hospital:sla="P2DT4H"'), "dept_review", "sla-format", None),
    "dueDate not ISO-8601": (_review('camunda:dueDate="tomorrow"'), "dept_review", "sla-format", "error"),
    "countersign mode unknown": (_review('hospital:countersign="half"'), "dept_review", "countersign-format", "error"),
    "countersign ratio": (_review('hospital:countersign="ratio:2/3"'), "dept_review", "countersign-format", None),
    "escalation unknown": (_review('hospital:escalation="email"'), "dept_review", "escalation-format", "error"),
    "escalation auto outcome": (_review('hospital:escalation="auto:approve"'), "dept_review", "escalation-format", None),
    "correlation key on the message event": (
        _message_catch('hospital:correlationKey="order_no"'), "wait_pay", "correlation-key-placement", "warning",
    ),
    "correlation key on the process": (
        _process('hospital:correlationKey="order_no"'), "triage", "correlation-key-placement", None,
    ),
}


@pytest.mark.parametrize(("xml", "element_id", "rule", "severity"), LINT_CASES.values(), ids=LINT_CASES.keys())
def test_server_lint_rules(ctx, xml, element_id, rule, severity):
    found = {(d.element_id, d.rule): d for d in engine.validate_design(ctx, xml)}
    if severity is None:
        assert (element_id, rule) not in found, found[(element_id, rule)].message
    else:
        assert found[(element_id, rule)].severity == severity
        assert found[(element_id, rule)].line


ROLE_CASES = {
    "unknown start role": (_process('hospital:startRoles="staff,ghost"'), "triage", True),
    "known start roles": (_process('hospital:startRoles="staff,doctor"'), "triage", False),
    "unknown lane role": (_lane('name="财务组" hospital:role="ghost"'), "lane_fin", True),
    "known lane role": (_lane('name="财务组" hospital:role="finance"'), "lane_fin", False),
    "lane named after an unknown role": (_lane('name="ghost"'), "lane_fin", True),
    "reassign to an unknown role": (_review('hospital:escalation="reassign:ghost"'), "dept_review", True),
    "reassign to a known role": (_review('hospital:escalation="reassign:finance"'), "dept_review", False),
}


@pytest.mark.parametrize(("xml", "element_id", "reported"), ROLE_CASES.values(), ids=ROLE_CASES.keys())
def test_every_role_a_process_names_must_exist(ctx, xml, element_id, reported):
    unknown = [d for d in engine.validate_design(ctx, xml) if d.rule == "unknown-role" and d.element_id == element_id]
    assert bool(unknown) is reported, unknown
    assert all("ghost" in d.message for d in unknown)


def test_connector_catalog_is_the_registry(ctx, monkeypatch):
    from engine import connectors
    from engine.designer.catalog import CONNECTOR_LABELS

    topics = {c.topic: c for c in engine.list_connectors(ctx)}
    assert set(topics) == set(connectors.connector_names())
    assert set(CONNECTOR_LABELS) <= set(topics)  # no labels for connectors that do not exist
    assert topics["http.request"].params == ["url", "method", "json", "headers"]
    assert topics["notify.staff"].title.startswith("通知工作人员")
    monkeypatch.setitem(connectors._REGISTRY, "fake.ping", ("fake", lambda client, params: None))
    fake = next(c for c in engine.list_connectors(ctx) if c.topic == "fake.ping")
    assert (fake.title, fake.params) == ("fake.ping", [])  # registered without labels: offered under its name


def test_drafts_of_deployed_processes_are_listed_and_reopened(ctx):
    engine.deploy_design(ctx, triage(), actor="admin", comment="首版")
    edited = _review('hospital:sla="P1D"')
    engine.save_draft(ctx, "triage", edited, actor="admin")
    listed = [(v.key, v.version, v.name) for v in engine.list_versions(ctx)]
    assert listed == [("triage", 1, "分诊审批"), ("triage", 0, "分诊审批")]
    draft = engine.definition_xml(ctx, "triage", 0)
    assert (draft.xml, draft.version, draft.draft) == (edited, 0, True)
    assert engine.definition_xml(ctx, "triage").xml == triage()  # no version: the latest deployed
    with pytest.raises(NotFound):
        engine.definition_xml(ctx, "other", 0)


@pytest.mark.parametrize(
    ("lane_attrs", "roles"),
    [('name="财务组" hospital:role="finance"', ["finance"]), ('name="finance"', ["finance"])],
    ids=["hospital:role", "lane name"],
)
def test_a_lane_gives_its_role_to_tasks_without_candidates(ctx, lane_attrs, roles):
    xml = _lane(lane_attrs).replace('id="finance_review" name="财务审核" camunda:candidateGroups="finance"', 'id="finance_review" name="财务审核"')
    assert 'camunda:candidateGroups="finance"' not in xml
    assert [d for d in engine.validate_design(ctx, xml) if d.severity == "error"] == []
    review = engine.dry_run(ctx, xml, {"amount": 5}).tasks[-1]
    assert (review.element_id, review.roles) == ("finance_review", roles)


def test_deploying_a_saved_draft_removes_it_but_keeps_a_draft_that_differs(ctx):
    edited = _review('hospital:sla="P1D"')
    engine.save_draft(ctx, "triage", edited, actor="admin")
    engine.deploy_design(ctx, edited, actor="admin", comment="按草稿发布")
    assert [(v.key, v.version) for v in engine.list_versions(ctx)] == [("triage", 1)]
    with pytest.raises(NotFound):
        engine.load_draft(ctx, "triage")
    engine.save_draft(ctx, "triage", _review('hospital:sla="P2D"'), actor="admin")
    engine.deploy_design(ctx, triage(), actor="admin", comment="发布另一版本")
    assert engine.load_draft(ctx, "triage").xml == _review('hospital:sla="P2D"')
