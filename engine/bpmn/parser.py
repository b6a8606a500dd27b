"""SpiffWorkflow parser that keeps the Camunda 7 and `hospital:` attributes the platform uses.

CamundaParser reads `camunda:formKey` but drops candidateGroups/candidateUsers/assignee/dueDate and
every attribute of our own namespace. We keep them in each task spec's `extensions` dict, which
SpiffWorkflow already serializes, so no custom spec class or converter is needed.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP as CAMUNDA_NSMAP
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    CallActivityParser,
    CamundaTaskParser,
    ScriptTaskParser,
    SubWorkflowParser,
    UserTaskParser,
)

from engine.bpmn.specs.connector_task import ConnectorTask

HOSPITAL_NS = "http://hospital-workflow.org/schema/1.0/bpmn"
NSMAP = {**CAMUNDA_NSMAP, "hospital": HOSPITAL_NS}

CAMUNDA_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "formKey", "dueDate", "type", "topic")
LIST_ATTRIBUTES = {
    "candidateGroups",
    "candidateUsers",
    "readonlyFields",
    "hiddenFields",
    "outcomes",
    "startRoles",
}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def read_extensions(node: Any, lane: str | None = None) -> dict[str, Any]:
    """Collect our attributes from one BPMN element into a plain dict.

    Args:
        node: the lxml element.
        lane: the role of the element's lane (`lane_role`), used when the element names no candidates.

    Returns:
        A JSON-serializable dict keyed by attribute local name (without namespace).
    """
    found: dict[str, Any] = {}
    for name in CAMUNDA_ATTRIBUTES:
        value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}")
        if value is not None:
            found[name] = value
    for key, value in node.attrib.items():
        if key.startswith(f"{{{HOSPITAL_NS}}}"):
            found[key.split("}", 1)[1]] = value
    for name in LIST_ATTRIBUTES & found.keys():
        found[name] = _split(found[name])
    properties = node.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NSMAP
    )
    if properties:
        found["properties"] = {p.get("name"): p.get("value") for p in properties}
    params = node.xpath(
        "./bpmn:extensionElements/camunda:inputOutput/camunda:inputParameter", namespaces=NSMAP
    )
    if params:
        found["inputParameters"] = {p.get("name"): (p.text or "").strip() for p in params}
    if lane and "candidateGroups" not in found and "candidateUsers" not in found and "assignee" not in found:
        found["laneRole"] = lane
    return found


def lane_role(node: Any, lane: str | None) -> str | None:
    """The role of the element's lane: its `hospital:role`, else the lane name SpiffWorkflow found.

    SpiffWorkflow only knows lane names; the designer writes the role key as `hospital:role` and
    leaves the name for people (e.g. name="财务组" hospital:role="finance").
    """
    node_id = node.get("id")
    if not node_id:
        return lane
    # Document order puts a nested lane after its parent, so the last match is the innermost lane.
    lanes = node.xpath("//bpmn:lane[bpmn:flowNodeRef[normalize-space(.) = $id]]", namespaces=NSMAP, id=node_id)
    return (lanes[-1].get(f"{{{HOSPITAL_NS}}}role") if lanes else None) or lane


class _HospitalExtensions:
    def parse_extensions(self, node: Any = None) -> dict[str, Any]:
        node = node if node is not None else self.node
        return read_extensions(node, lane_role(node, getattr(self, "lane", None)))


class HospitalTaskParser(_HospitalExtensions, CamundaTaskParser):
    """Plain tasks, manual tasks and service tasks."""


class HospitalUserTaskParser(_HospitalExtensions, UserTaskParser):
    """User tasks: form plus candidates, SLA, countersign and field permissions."""


class HospitalScriptTaskParser(_HospitalExtensions, ScriptTaskParser):
    pass


class HospitalBusinessRuleTaskParser(_HospitalExtensions, BusinessRuleTaskParser):
    pass


class HospitalSubWorkflowParser(_HospitalExtensions, SubWorkflowParser):
    pass


class HospitalCallActivityParser(_HospitalExtensions, CallActivityParser):
    pass


def _with_parser(tag: str, parser_cls: type) -> tuple[type, type]:
    return parser_cls, CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)][1]


class HospitalParser(CamundaParser):
    """CamundaParser that keeps our attributes on every activity."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): _with_parser("userTask", HospitalUserTaskParser),
        full_tag("task"): _with_parser("task", HospitalTaskParser),
        full_tag("manualTask"): _with_parser("manualTask", HospitalTaskParser),
        full_tag("scriptTask"): _with_parser("scriptTask", HospitalScriptTaskParser),
        full_tag("businessRuleTask"): _with_parser("businessRuleTask", HospitalBusinessRuleTaskParser),
        full_tag("subProcess"): _with_parser("subProcess", HospitalSubWorkflowParser),
        full_tag("callActivity"): _with_parser("callActivity", HospitalCallActivityParser),
        full_tag("serviceTask"): (HospitalTaskParser, ConnectorTask),
    }

    def __init__(self, validator: Any = None) -> None:
        super().__init__(namespaces=NSMAP, validator=validator)


def process_attributes(parser: HospitalParser, process_id: str) -> dict[str, Any]:
    """Return the `hospital:` attributes and name of one process element."""
    process_parser = parser.get_process_parser(process_id)
    node = process_parser.node
    attrs = read_extensions(node)
    attrs["name"] = node.get("name") or process_id
    start_forms = node.xpath("./bpmn:startEvent/@camunda:formKey", namespaces=NSMAP)
    if start_forms:
        attrs["startForm"] = str(start_forms[0])
    docs = node.xpath("./bpmn:documentation/text()", namespaces=NSMAP)
    if docs and str(docs[0]).strip():
        attrs["description"] = str(docs[0]).strip().splitlines()[0]
    return attrs
