"""Static checks over the shipped process content (processes/, forms/, policies/).

Uses SpiffWorkflow's own CamundaParser (with its XSD validator) so that whatever we ship
at least parses in the engine we run on.
"""
from __future__ import annotations

import csv
import json
import pathlib

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser

from tests.processes.scenario_runner import end_events

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
ROLES_CSV = ROOT / "policies" / "roles.csv"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "hospital": "http://hospital-workflow.org/schema/1.0/bpmn",
}
CAM = f"{{{NS['camunda']}}}"
HOS = f"{{{NS['hospital']}}}"

BPMN_FILES = sorted(PROCESSES.glob("*/*.bpmn"))
EXPECTED_KEYS = {"medical_record_copy", "referral", "leave_request", "guest_meal",
                 "surgery_application", "clinic_suspension", "day_surgery", "refund"}
TOPICS = {"identity.verify", "his.check_archive", "his.notify", "payment.refund",
          "payment.refund_status", "notify.patient", "notify.sms", "clinic.notify_patients",
          "clinic.release_slots", "his.book_exams", "his.book_bed"}
ALLOWED_ELEMENTS = {"startEvent", "endEvent", "userTask", "serviceTask", "businessRuleTask",
                    "scriptTask", "exclusiveGateway", "parallelGateway", "eventBasedGateway",
                    "intermediateCatchEvent", "boundaryEvent", "subProcess", "sequenceFlow"}


def ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def roles():
    with ROLES_CSV.open(encoding="utf-8") as fh:
        return {row["role"]: row for row in csv.DictReader(fh)}


def tree(path):
    return etree.parse(str(path))


def process_el(doc):
    procs = doc.findall("bpmn:process", NS)
    assert len(procs) == 1
    return procs[0]


def split(value):
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def load_form(key):
    return json.loads((FORMS / f"{key}.schema.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- inventory
def test_all_processes_present():
    assert {p.stem for p in BPMN_FILES} == EXPECTED_KEYS
    for p in BPMN_FILES:
        assert (p.parent / f"test_{p.stem}.json").exists(), f"missing scenario file for {p.stem}"


def test_roles_csv():
    r = roles()
    assert list(next(csv.reader(ROLES_CSV.open(encoding="utf-8")))) == ["role", "label_zh", "label_en", "inherits"]
    for name, row in r.items():
        assert row["label_zh"] and row["label_en"]
        for parent in split(row["inherits"]):
            assert parent in r, f"{name} inherits unknown role {parent}"


def test_no_juel_anywhere():
    for path in list(PROCESSES.rglob("*.*")) + list(FORMS.glob("*.json")):
        assert "${" not in path.read_text(encoding="utf-8"), f"JUEL expression in {path}"


# --------------------------------------------------------------------------- per BPMN
@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_parses_with_camunda_parser(bpmn):
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(bpmn))
    dmns = sorted(bpmn.parent.glob("*.dmn"))
    if dmns:
        parser.add_dmn_files([str(d) for d in dmns])
    spec = parser.get_spec(bpmn.stem)
    assert spec.name == bpmn.stem
    # every decisionRef resolves to a DMN decision shipped next to the process
    doc = tree(bpmn)
    decisions = set()
    for d in dmns:
        decisions |= {e.get("id") for e in tree(d).getroot().iter() if etree.QName(e).localname == "decision"}
    for brt in doc.iterfind(".//bpmn:businessRuleTask", NS):
        assert brt.get(CAM + "decisionRef") in decisions


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_process_attributes_and_elements(bpmn):
    doc = tree(bpmn)
    proc = process_el(doc)
    assert proc.get("id") == bpmn.stem
    assert proc.get("isExecutable") == "true"
    assert proc.get(HOS + "title")
    r = roles()
    for role in split(proc.get(HOS + "startRoles")):
        assert role in r
    for el in proc.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != NS["bpmn"]:
            continue
        parent = el.getparent()
        if parent is proc or etree.QName(parent).localname == "subProcess":
            local = etree.QName(el).localname
            if local not in ("documentation", "extensionElements", "laneSet"):
                assert local in ALLOWED_ELEMENTS, f"{local} not allowed ({el.get('id')})"
            if local not in ("sequenceFlow", "documentation", "extensionElements"):
                assert el.get("name"), f"{el.get('id')} has no (Chinese) name"


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_user_tasks_forms_and_roles(bpmn):
    doc = tree(bpmn)
    r = roles()
    for el in list(doc.iterfind(".//bpmn:userTask", NS)) + list(doc.iterfind(".//bpmn:startEvent", NS)):
        key = el.get(CAM + "formKey")
        if el.tag.endswith("userTask"):
            assert key, f"user task {el.get('id')} has no formKey"
            groups = split(el.get(CAM + "candidateGroups"))
            assert groups, f"user task {el.get('id')} has no candidate groups"
            for g in groups:
                assert g in r, f"{el.get('id')}: unknown role {g}"
        if not key:
            continue
        path = FORMS / f"{key}.schema.json"
        assert path.exists(), f"{el.get('id')}: form {key} missing"
        schema = load_form(key)
        jsonschema.Draft202012Validator.check_schema(schema)
        props = schema["properties"]
        for attr in ("readonlyFields", "hiddenFields"):
            for field in split(el.get(HOS + attr)):
                assert field in props, f"{el.get('id')}: {attr} {field} not in form {key}"
        outcomes = split(el.get(HOS + "outcomes")) or ["approve", "reject"]
        if el.tag.endswith("userTask") and "outcome" in props:
            assert set(outcomes) == set(props["outcome"]["enum"]), f"{el.get('id')}: outcomes vs form {key}"


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_expressions_compile(bpmn):
    doc = tree(bpmn)
    for cond in doc.iterfind(".//bpmn:conditionExpression", NS):
        compile(cond.text, f"{bpmn.name}:condition", "eval")
    for t in doc.iterfind(".//bpmn:timerEventDefinition/*", NS):
        compile(t.text, f"{bpmn.name}:timer", "eval")
    for s in doc.iterfind(".//bpmn:script", NS):
        compile(s.text, f"{bpmn.name}:script", "exec")
    for p in doc.iter(CAM + "inputParameter"):
        compile(p.text, f"{bpmn.name}:input {p.get('name')}", "eval")
    for el in doc.iter():
        for attr in ("institutionExpr", "signersExpr", "assigneeExpr"):
            v = el.get(HOS + attr) if isinstance(el.tag, str) else None
            if v:
                compile(v, f"{bpmn.name}:{attr}", "eval")
    for gw in doc.iterfind(".//bpmn:exclusiveGateway", NS):
        out = [f for f in doc.iterfind(".//bpmn:sequenceFlow", NS) if f.get("sourceRef") == gw.get("id")]
        if len(out) > 1:
            conds = [f for f in out if f.find("bpmn:conditionExpression", NS) is not None]
            assert len(conds) + (1 if gw.get("default") else 0) == len(out), gw.get("id")


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_service_tasks(bpmn):
    doc = tree(bpmn)
    for st in doc.iterfind(".//bpmn:serviceTask", NS):
        assert st.get(CAM + "type") == "external"
        assert st.get(CAM + "topic") in TOPICS, st.get(CAM + "topic")
        assert st.get(HOS + "resultVariable")
        assert list(st.iter(CAM + "inputParameter")), f"{st.get('id')} has no input parameters"


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_diagram_complete(bpmn):
    doc = tree(bpmn)
    proc = process_el(doc)
    shaped = {s.get("bpmnElement") for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edged = {s.get("bpmnElement") for s in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    for el in proc.iter():
        if not isinstance(el.tag, str) or not el.get("id") or el is proc:
            continue
        local = etree.QName(el).localname
        if local == "sequenceFlow":
            assert el.get("id") in edged
        elif local in ALLOWED_ELEMENTS:
            assert el.get("id") in shaped, f"{el.get('id')} has no diagram shape"


# --------------------------------------------------------------------------- scenarios
def element_index(bpmn):
    doc = tree(bpmn)
    proc = process_el(doc)
    elements = {el.get("id"): etree.QName(el).localname for el in proc.iter()
                if isinstance(el.tag, str) and el.get("id")}
    messages = {m.get("name") for m in doc.iterfind("bpmn:message", NS)}
    timers = {el.get("id") for el in proc.iter() if isinstance(el.tag, str)
              and el.find("bpmn:timerEventDefinition", NS) is not None}
    topics = {st.get(CAM + "topic"): st.get("id") for st in proc.iterfind(".//bpmn:serviceTask", NS)}
    outcomes = {el.get("id"): split(el.get(HOS + "outcomes")) or ["approve", "reject"]
                for el in proc.iterfind(".//bpmn:userTask", NS)}
    return elements, messages, timers, topics, outcomes


@pytest.mark.parametrize("bpmn", BPMN_FILES, ids=ids(BPMN_FILES))
def test_scenarios_reference_existing_elements(bpmn):
    elements, messages, timers, topics, outcomes = element_index(bpmn)
    data = json.loads((bpmn.parent / f"test_{bpmn.stem}.json").read_text(encoding="utf-8"))
    assert data["process"] == bpmn.stem
    names = [s["name"] for s in data["scenarios"]]
    assert len(names) == len(set(names)) and len(names) >= 2
    visited = set()
    for sc in data["scenarios"]:
        steps = sc["steps"]
        assert "start" in steps[0]
        for step in steps:
            actions = [k for k in step if k != "expect"]
            assert len(actions) == 1, step
            kind = actions[0]
            body = step[kind]
            if kind == "complete":
                assert elements.get(body["task"]) == "userTask", body["task"]
                assert body["outcome"] in outcomes[body["task"]], (body["task"], body["outcome"])
                visited.add(body["task"])
            elif kind == "message":
                assert body["name"] in messages, body["name"]
            elif kind == "timer":
                assert body["element"] in timers, body["element"]
                visited.add(body["element"])
            elif kind == "connector_result":
                assert body["topic"] in topics, body["topic"]
                if "task" in body:
                    assert elements.get(body["task"]) == "serviceTask"
                    assert topics[body["topic"]] == body["task"] or body["topic"] in topics
                    visited.add(body["task"])
            else:
                assert kind == "start"
            for key in ("tasks", "waiting"):
                for el in step.get("expect", {}).get(key, []):
                    assert el in elements, f"{sc['name']}: unknown element {el}"
        for event in end_events(sc["end"]):
            assert elements.get(event) == "endEvent", f"{sc['name']}: {event}"
            visited.add(event)
    # every end event is reached by at least one scenario
    ends = {i for i, k in elements.items() if k == "endEvent"}
    assert ends <= visited, f"end events without scenario: {sorted(ends - visited)}"
