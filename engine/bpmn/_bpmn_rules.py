"""Deploy-time rules for one BPMN document: platform, supported elements, expressions and attributes."""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from engine.bpmn._xml_checks import BPMN_NS, make_diag
from engine.bpmn.script_env import check_expression_syntax
from engine.errors import Diagnostic

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
HOSPITAL_NS = "http://hospital-workflow.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "hospital": HOSPITAL_NS}

_JUEL = re.compile(r"[$#]\{")
_JUEL_HINT = "不支持 JUEL 表达式 (JUEL ${...} is not supported); 请改写为 Python 表达式, 例如 amount > 1000"
_DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?"
_DURATION_RE = re.compile(f"^{_DURATION}$")
_CYCLE_RE = re.compile(r"^R\d*/(.+)$")
_COUNTERSIGN_RE = re.compile(r"^(all|any|sequential|ratio:(\d+)/(\d+))$")
_ESCALATION_RE = re.compile(r"^(notify|reassign:\S+|auto:\S+)$")

# Elements SpiffWorkflow's CamundaParser would reject late or silently ignore, or our runtime lacks.
UNSUPPORTED = {
    "dataStore": "数据存储 (data store)",
    "dataStoreReference": "数据存储 (data store reference)",
    "complexGateway": "复杂网关 (complex gateway)",
    "adHocSubProcess": "自由子流程 (ad-hoc subprocess)",
    "compensateEventDefinition": "补偿事件 (compensation event)",
    "linkEventDefinition": "链接事件 (link event)",
    "conversation": "会话 (conversation)",
    "subConversation": "会话 (sub-conversation)",
    "callConversation": "会话 (call conversation)",
    "conversationLink": "会话 (conversation link)",
    "globalConversation": "会话 (global conversation)",
    "choreography": "编排 (choreography)",
    "choreographyTask": "编排任务 (choreography task)",
    "subChoreography": "编排子流程 (sub-choreography)",
    "callChoreography": "编排调用 (call choreography)",
    "globalChoreographyTask": "编排任务 (global choreography task)",
}


def _b(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _c(tag: str) -> str:
    return f"{{{CAMUNDA_NS}}}{tag}"


def _h(tag: str) -> str:
    return f"{{{HOSPITAL_NS}}}{tag}"


def is_iso_literal(text: str) -> bool:
    """True for a bare ISO-8601 duration (``P3D``), date/datetime, or repeating cycle (``R3/PT1H``)."""
    text = text.strip()
    cycle = _CYCLE_RE.match(text)
    parts = cycle.group(1).split("/") if cycle else [text]
    if not cycle and len(parts) == 1 and "/" in text:
        parts = text.split("/")
    return all(_DURATION_RE.match(p) or _is_datetime(p) for p in parts) and len(parts) <= 2


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_platform(root: etree._Element, name: str) -> list[Diagnostic]:
    """Refuse Camunda 8 (Zeebe) files and anything that is not a BPMN definitions document."""
    if root.tag != _b("definitions"):
        return [
            make_diag("不是 BPMN 2.0 文件 (root element must be bpmn:definitions)", "not-bpmn", name, root)
        ]
    platform = root.get(f"{{{MODELER_NS}}}executionPlatform", "")
    uses_zeebe = any(
        ns == ZEEBE_NS for el in root.iter() if isinstance(el.tag, str) for ns in el.nsmap.values()
    )
    if uses_zeebe or platform == "Camunda Cloud":
        return [
            make_diag(
                "这是 Camunda 8 (Zeebe) 文件, 本平台只支持 Camunda 7 格式; 请在 Camunda Modeler 中"
                "选择 Camunda Platform 7 重新建模 (Camunda 8 / Zeebe is not supported)",
                "zeebe",
                name,
                root,
            )
        ]
    return []


def check_processes(root: etree._Element, name: str) -> tuple[int, list[Diagnostic]]:
    """Count executable processes and report executable processes without a start event."""
    found: list[Diagnostic] = []
    executable = [p for p in root.iter(_b("process")) if p.get("isExecutable", "true") == "true"]
    for process in executable:
        if process.find(_b("startEvent")) is None:
            found.append(
                make_diag(
                    "流程缺少开始事件 (process has no start event)", "missing-start-event", name, process
                )
            )
    return len(executable), found


def check_unsupported(root: etree._Element, name: str) -> list[Diagnostic]:
    """Report elements the runtime cannot execute, instead of letting the parser drop them."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.namespace == BPMN_NS and qname.localname in UNSUPPORTED:
            label = UNSUPPORTED[qname.localname]
            found.append(
                make_diag(
                    f"不支持的元素: {label} (bpmn:{qname.localname} is not supported)",
                    "unsupported-element",
                    name,
                    element,
                )
            )
        elif element.get("isForCompensation") == "true":
            found.append(
                make_diag(
                    "不支持补偿 (isForCompensation is not supported)", "unsupported-element", name, element
                )
            )
    return found + _check_completion_conditions(root, name)


def _check_completion_conditions(root: etree._Element, name: str) -> list[Diagnostic]:
    """Refuse a multi-instance completionCondition: SpiffWorkflow 3.2 evaluates it on stale results
    (a "2 of 3" never completes as written), and our countersign rules replace it."""
    found = []
    for cond in root.iter(_b("completionCondition")):
        loop = cond.getparent()
        activity = loop.getparent() if loop is not None and loop.getparent() is not None else loop
        found.append(
            make_diag(
                "不支持多实例完成条件 (bpmn:completionCondition is not supported: SpiffWorkflow evaluates it "
                "on stale results); 请改用会签属性 hospital:countersign=\"all|any|ratio:N/M|sequential\" "
                "和 hospital:signersExpr (see docs/BPMN_EXTENSIONS.md)",
                "multi-instance-completion",
                name,
                cond,
                element_id=activity.get("id") if activity is not None else None,
            )
        )
    return found


def _python(text: str | None, mode: str, where: str, name: str, element: etree._Element) -> list[Diagnostic]:
    if text is None or not text.strip():
        return []
    if _JUEL.search(text):
        return [make_diag(f"{where}: {_JUEL_HINT}", "juel", name, element)]
    error = check_expression_syntax(text, "eval" if mode == "eval" else "exec")
    if error is None:
        return []
    # Report the line inside the BPMN file, not inside the expression.
    offset = _first_line_offset(element, text, error)
    return [
        make_diag(
            f"{where} Python 语法错误 (syntax error): {error}", "python-syntax", name, element, line=offset
        )
    ]


def _first_line_offset(element: etree._Element, text: str, error: str) -> int | None:
    match = re.search(r"line (\d+)", error)
    if element.sourceline is None or match is None:
        return element.sourceline
    # An element's text starts on its own line; a leading newline shifts the first code line by one.
    leading = len(text) - len(text.lstrip("\n"))
    return element.sourceline + leading + int(match.group(1)) - 1


def check_expressions(root: etree._Element, name: str) -> list[Diagnostic]:
    """Check conditions, scripts, timers, expression attributes and connector parameters."""
    found: list[Diagnostic] = []
    for cond in root.iter(_b("conditionExpression"), _b("completionCondition"), _b("loopCardinality")):
        found += _python(cond.text, "eval", f"条件表达式 (bpmn:{etree.QName(cond).localname})", name, cond)
    for cond in root.iter(_b("condition")):
        found += _python(cond.text, "eval", "条件事件 (conditional event)", name, cond)
    for script_task in root.iter(_b("scriptTask")):
        found += _check_script_task(script_task, name)
    for timer in root.iter(_b("timeDuration"), _b("timeDate"), _b("timeCycle")):
        found += _check_timer(timer, name)
    for param in root.iter(_c("inputParameter"), _c("outputParameter")):
        if len(param):  # camunda:list / camunda:map / camunda:script children
            found.append(
                make_diag(
                    "连接器参数只支持 Python 表达式文本 (only plain Python expressions are supported "
                    "in camunda:inputOutput)",
                    "unsupported-element",
                    name,
                    param,
                )
            )
            continue
        label = f"参数 {param.get('name', '')} (camunda:inputOutput)"
        found += _python(param.text, "eval", label, name, param)
    return found


def _check_script_task(task: etree._Element, name: str) -> list[Diagnostic]:
    script_format = (task.get("scriptFormat") or "python").strip().lower()
    if script_format not in {"python", "python3", "py"}:
        return [
            make_diag(
                f"只支持 Python 脚本 (scriptFormat '{script_format}' is not supported, use python)",
                "script-format",
                name,
                task,
            )
        ]
    if task.get(_c("resource")):
        return [
            make_diag("不支持外部脚本文件 (camunda:resource is not supported)", "script-format", name, task)
        ]
    script = task.find(_b("script"))
    if script is None or not (script.text or "").strip():
        return [make_diag("脚本任务没有脚本 (script task has no script)", "python-syntax", name, task)]
    return _python(script.text, "exec", "脚本 (script)", name, script)


def _check_timer(timer: etree._Element, name: str) -> list[Diagnostic]:
    text = (timer.text or "").strip()
    label = f"定时器 (bpmn:{etree.QName(timer).localname})"
    if not text:
        return [make_diag(f"{label} 为空 (timer has no value)", "timer", name, timer)]
    if is_iso_literal(text):
        return []
    if _JUEL.search(text):
        return _python(text, "eval", label, name, timer)
    error = check_expression_syntax(text, "eval")
    if error is None:
        return []
    return [
        make_diag(
            f"{label}: 既不是 ISO-8601 (如 P3D, PT4H, 2025-01-31T09:00, R3/PT1H) 也不是有效的 Python 表达式 "
            f"(neither an ISO-8601 literal nor a valid Python expression): {error}",
            "timer",
            name,
            timer,
        )
    ]


def check_attributes(root: etree._Element, name: str) -> list[Diagnostic]:
    """Check camunda:* and hospital:* attributes documented in docs/BPMN_EXTENSIONS.md."""
    found: list[Diagnostic] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in ("assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate"):
            value = element.get(_c(attr))
            if value and _JUEL.search(value):
                found.append(make_diag(f"camunda:{attr}: {_JUEL_HINT}", "juel", name, element))
        for attr in ("assigneeExpr", "signersExpr", "institutionExpr"):
            found += _python(element.get(_h(attr)), "eval", f"hospital:{attr}", name, element)
        found += _check_value_formats(element, name, found)
    return found


def _check_value_formats(element: etree._Element, name: str, so_far: list[Diagnostic]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    countersign = element.get(_h("countersign"))
    if countersign is not None:
        match = _COUNTERSIGN_RE.match(countersign.strip())
        if match is None or (match.group(2) and not 0 < int(match.group(2)) <= int(match.group(3))):
            found.append(
                make_diag(
                    f"hospital:countersign 取值无效 '{countersign}' (allowed: all, any, sequential, "
                    "ratio:N/M with 0<N<=M)",
                    "countersign",
                    name,
                    element,
                )
            )
    for attr in (_c("dueDate"), _h("sla")):
        value = element.get(attr)
        if value is None or _JUEL.search(value):
            continue  # JUEL is reported once, above
        text = value.strip()
        if not (_DURATION_RE.match(text) or _is_datetime(text)):
            label = "camunda:dueDate" if attr == _c("dueDate") else "hospital:sla"
            found.append(
                make_diag(
                    f"{label} 不是有效的 ISO-8601 时长或日期 '{value}' (expected e.g. PT4H, P3D or "
                    "2025-01-31T09:00)",
                    "iso8601",
                    name,
                    element,
                )
            )
    escalation = element.get(_h("escalation"))
    if escalation is not None and not _ESCALATION_RE.match(escalation.strip()):
        found.append(
            make_diag(
                f"hospital:escalation 取值无效 '{escalation}' (allowed: notify, reassign:<role>, "
                "auto:<outcome>)",
                "escalation",
                name,
                element,
            )
        )
    return found


def check_flows(root: etree._Element, name: str) -> list[Diagnostic]:
    """Report dangling sequence flows and exclusive gateways that may have no path to take."""
    found: list[Diagnostic] = []
    ids = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in root.iter(_b("sequenceFlow")):
        for attr in ("sourceRef", "targetRef"):
            ref = flow.get(attr)
            if ref is not None and ref not in ids:
                found.append(
                    make_diag(
                        f"顺序流引用了不存在的元素 '{ref}' ({attr} points to an unknown element)",
                        "dangling-flow",
                        name,
                        flow,
                    )
                )
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
    for gateway in root.iter(_b("exclusiveGateway")):
        flows = outgoing.get(gateway.get("id", ""), [])
        default = gateway.get("default")
        if default and default not in {f.get("id") for f in flows}:
            found.append(
                make_diag(
                    f"默认流 '{default}' 不是该网关的出口 (default flow is not an outgoing flow)",
                    "gateway-default",
                    name,
                    gateway,
                )
            )
        unconditioned = [
            f for f in flows if f.get("id") != default and f.find(_b("conditionExpression")) is None
        ]
        if len(flows) > 1 and unconditioned:
            # SpiffWorkflow refuses this too, but only with the flow id; say what to do instead.
            for flow in unconditioned:
                found.append(
                    make_diag(
                        "排他网关的非默认出口缺少条件 (exclusive gateway: this outgoing flow needs a "
                        "condition, or make it the gateway's default flow)",
                        "gateway-condition",
                        name,
                        flow,
                    )
                )
        elif len(flows) > 1 and not default:
            found.append(
                make_diag(
                    "排他网关没有默认流, 若所有条件都不成立流程将报错停止 (exclusive gateway has no "
                    "default flow; the instance fails if no condition is true)",
                    "gateway-no-default",
                    name,
                    gateway,
                    severity="warning",
                )
            )
    return found
