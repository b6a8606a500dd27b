"""Designer lint on the server: the hospital rules the browser's bpmnlint also applies, with lines.

These run in addition to `validate_definition` (parse errors, missing forms) and block a designer
deploy when they report errors: every user task has candidates and a form, roles (candidates,
start roles, lane roles, `reassign:<role>` escalation targets) and connectors exist, no JUEL,
exclusive gateways can always leave, attribute values are well-formed.
"""

from __future__ import annotations

import re
from typing import Any

from engine.designer.xml import BPMN_NS, CAMUNDA_NS, HOSPITAL_NS, NS, local
from engine.errors import Diagnostic

JUEL = re.compile(r"[$#]\{")
DURATION = re.compile(
    r"^(P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d{4}-\d{2}-\d{2}T.*)$"
)
COUNTERSIGN = re.compile(r"^(all|any|sequential|ratio:\d+/\d+)$")
ESCALATION = re.compile(r"^(notify|reassign:[\w.-]+|auto:[\w.-]+)$")
UNSUPPORTED = ("class", "delegateExpression", "expression", "resultVariable", "asyncBefore", "asyncAfter")


def _c(el: Any, name: str) -> str | None:
    return el.get(f"{{{CAMUNDA_NS}}}{name}")


def _h(el: Any, name: str) -> str | None:
    return el.get(f"{{{HOSPITAL_NS}}}{name}")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _lane_members(root: Any) -> set[str]:
    members = set()
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        if lane.get("name") or _h(lane, "role"):
            members |= {(ref.text or "").strip() for ref in lane.findall("bpmn:flowNodeRef", NS)}
    return members


def _unknown_roles(el: Any, named: list[str], roles: set[str], d: list[Diagnostic]) -> None:
    """Report every role `el` names that the platform does not have (skipped without a role list)."""
    for role in named:
        if not JUEL.search(role) and roles and role not in roles:
            d.append(Diagnostic(f"角色 {role} 不存在 (unknown role)", el.get("id"), el.sourceline, rule="unknown-role"))


def _user_task(el: Any, d: list[Diagnostic], roles: set[str], in_lane: bool) -> None:
    eid, line = el.get("id"), el.sourceline
    candidates = _split(_c(el, "candidateGroups"))
    if not (
        candidates or _c(el, "candidateUsers") or _c(el, "assignee") or _h(el, "assigneeExpr") or in_lane
    ):
        d.append(
            Diagnostic(
                "用户任务未设置候选角色或候选人 (user task has no candidates)",
                eid,
                line,
                rule="user-task-candidates",
            )
        )
    if not _c(el, "formKey"):
        d.append(
            Diagnostic(
                "用户任务未设置表单 (user task has no form: camunda:formKey)",
                eid,
                line,
                rule="user-task-form",
            )
        )
    escalation = _h(el, "escalation") or ""
    reassign = [escalation.split(":", 1)[1]] if escalation.startswith("reassign:") else []
    _unknown_roles(el, candidates + reassign, roles, d)
    for attr, pattern, label in (
        ("sla", DURATION, "SLA"),
        ("countersign", COUNTERSIGN, "会签方式"),
        ("escalation", ESCALATION, "超时处理"),
    ):
        value = _h(el, attr)
        if value and not pattern.match(value):
            d.append(
                Diagnostic(
                    f"{label} {value!r} 格式不正确 (invalid hospital:{attr})",
                    eid,
                    line,
                    rule=f"{attr}-format",
                )
            )
    due = _c(el, "dueDate")
    if due and not JUEL.search(due) and not DURATION.match(due):
        d.append(
            Diagnostic(
                f"到期时间 {due!r} 不是 ISO-8601 (invalid camunda:dueDate)", eid, line, rule="sla-format"
            )
        )


def _service_task(el: Any, d: list[Diagnostic], connectors: set[str]) -> None:
    topic = _c(el, "topic")
    if not topic:
        d.append(
            Diagnostic(
                "服务任务未选择连接器 (service task needs camunda:type=external + camunda:topic)",
                el.get("id"),
                el.sourceline,
                rule="connector-missing",
            )
        )
    elif connectors and topic not in connectors:
        d.append(
            Diagnostic(
                f"连接器 {topic} 不存在 (unknown connector)",
                el.get("id"),
                el.sourceline,
                severity="warning",
                rule="unknown-connector",
            )
        )


def _gateway(el: Any, d: list[Diagnostic], flows: dict[str, Any]) -> None:
    # sourceRef is required on a flow; <bpmn:outgoing> is optional (hand-written files often omit it).
    outgoing = [f for f in flows.values() if f.get("sourceRef") == el.get("id")]
    if len(outgoing) < 2 or el.get("default"):
        return
    bare = [f.get("id") for f in outgoing if f.find("bpmn:conditionExpression", NS) is None]
    if bare:
        d.append(
            Diagnostic(
                f"排他网关没有默认分支，且分支 {', '.join(bare)} 没有条件 (gateway needs a default or "
                "conditions on every flow)",
                el.get("id"),
                el.sourceline,
                rule="gateway-conditions",
            )
        )


def _generic(el: Any, d: list[Diagnostic]) -> None:
    for name in UNSUPPORTED:
        # On a message event definition, camunda:resultVariable names the payload variable (supported).
        if name == "resultVariable" and local(el.tag) == "messageEventDefinition":
            continue
        if _c(el, name) is not None:
            d.append(
                Diagnostic(
                    f"camunda:{name} 不受支持（不会执行）(unsupported)",
                    el.get("id"),
                    el.sourceline,
                    rule="unsupported",
                )
            )
    if (
        el.find("bpmn:extensionElements/camunda:executionListener", NS) is not None
        or el.find("bpmn:extensionElements/camunda:taskListener", NS) is not None
    ):
        d.append(
            Diagnostic(
                "监听器不受支持 (camunda listeners are not supported)",
                el.get("id"),
                el.sourceline,
                rule="unsupported",
            )
        )
    texts = [v for k, v in el.attrib.items() if k != "name"]
    cond = el.find("bpmn:conditionExpression", NS)
    if cond is not None:
        texts.append(cond.text or "")
    if any(JUEL.search(t) for t in texts):
        d.append(
            Diagnostic(
                "不支持 JUEL ${...}，请使用 Python 表达式 (JUEL is not supported)",
                el.get("id"),
                el.sourceline,
                rule="no-juel",
            )
        )


def _message_event(el: Any, d: list[Diagnostic]) -> None:
    # The engine reads hospital:correlationKey from the process only; on the event it does nothing.
    # Reported on the event, not its event definition, because only the event is drawn on the diagram.
    for definition in el.findall("bpmn:messageEventDefinition", NS):
        if _h(definition, "correlationKey") is not None:
            d.append(
                Diagnostic(
                    "消息事件上的关联键不生效，请在流程上设置 hospital:correlationKey "
                    "(correlation key is read from the process; ignored on the message event)",
                    el.get("id"),
                    definition.sourceline,
                    severity="warning",
                    rule="correlation-key-placement",
                )
            )


def designer_checks(root: Any, roles: set[str], connectors: set[str]) -> list[Diagnostic]:
    """Hospital lint rules over a parsed BPMN document (element id + line per finding)."""
    d: list[Diagnostic] = []
    flows = {f.get("id"): f for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    lane_members = _lane_members(root)
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}") or not el.get("id"):
            continue
        kind = local(el.tag)
        _generic(el, d)
        _message_event(el, d)
        if kind == "userTask":
            _user_task(el, d, roles, el.get("id") in lane_members)
        elif kind == "serviceTask":
            _service_task(el, d, connectors)
        elif kind == "exclusiveGateway":
            _gateway(el, d, flows)
        elif kind == "process":
            _unknown_roles(el, _split(_h(el, "startRoles")), roles, d)
        elif kind == "lane":
            # The lane's role is hospital:role, else its name (docs/BPMN_EXTENSIONS.md).
            _unknown_roles(el, [r for r in [_h(el, "role") or el.get("name")] if r], roles, d)
    return d
