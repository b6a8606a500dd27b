"""Import BPMN from Camunda Modeler 7 (and other tools): map what we support, report everything else.

Every `camunda:`/`zeebe:` attribute and extension element gets a report line, `mapped` (with what
it became) or `unsupported` (kept in the XML but never executed, with the reason). Nothing is
silently dropped. The only rewrite is `camunda:assignee="${var}"` → `hospital:assigneeExpr="var"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.designer.xml import BPMN_NS, CAMUNDA_NS, HOSPITAL_NS, ZEEBE_NS, local, parse_xml

JUEL = re.compile(r"[$#]\{")
SIMPLE_JUEL = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")
DURATION = re.compile(r"^P(?!$)[\dYMWDTHS.]+$|^\d{4}-\d{2}-\d{2}")
IGNORED = {
    "historyTimeToLive",
    "versionTag",
    "isStartableInTasklist",
    "jobPriority",
    "taskPriority",
    "asyncBefore",
    "asyncAfter",
    "exclusive",
    "candidateStarterGroups",
    "candidateStarterUsers",
}
UNSUPPORTED_ATTRS = {
    "class": "Java 类 (camunda:class) 无法执行；请改用连接器 (camunda:type=external + camunda:topic)",
    "delegateExpression": "委托表达式 (delegateExpression) 无法执行；请改用连接器",
    "expression": "JUEL 表达式任务 (camunda:expression) 无法执行；请改用脚本任务 (Python) 或连接器",
    "resultVariable": "camunda:resultVariable 仅用于表达式任务；连接器结果请用 hospital:resultVariable",
    "followUpDate": "跟进日期 (followUpDate) 不受支持",
    "priority": "任务优先级 (camunda:priority) 不受支持；请在表单数据中提供 priority",
    "decisionRefBinding": "DMN 版本绑定不受支持：DMN 随流程一起发布",
    "calledElementBinding": "调用版本绑定不受支持：始终调用同一发布包中的流程",
}
UNSUPPORTED_ELEMENTS = {
    "executionListener": "执行监听器 (executionListener) 不受支持；请改用脚本任务或连接器",
    "taskListener": "任务监听器 (taskListener) 不受支持；超时/通知请用 hospital:sla + hospital:escalation",
    "connector": "camunda:connector 不受支持；请改用 camunda:type=external + camunda:topic",
    "formData": "camunda:formData 表单字段不受支持；请在表单设计器中建 JSON Schema 表单 (camunda:formKey)",
    "field": "camunda:field 字段注入不受支持",
    "in": "调用活动变量映射 (camunda:in) 不受支持：子流程共享数据",
    "out": "调用活动变量映射 (camunda:out) 不受支持：子流程共享数据",
    "outputParameter": "输出参数 (outputParameter) 不受支持；连接器结果请用 hospital:resultVariable",
    "failedJobRetryTimeCycle": "重试周期由平台的作业队列决定",
}


@dataclass(frozen=True)
class ImportItem:
    element_id: str | None
    attribute: str
    status: str  # "mapped" | "unsupported"
    message: str


@dataclass(frozen=True)
class BpmnImportReport:
    xml: str
    report: list[ImportItem]


def _owner_id(el: Any) -> str | None:
    while el is not None:
        if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN_NS and el.get("id"):
            return str(el.get("id"))
        el = el.getparent()
    return None


class _Importer:
    def __init__(self, roles: set[str], forms: set[str], connectors: set[str]) -> None:
        self.roles, self.forms, self.connectors = roles, forms, connectors
        self.report: list[ImportItem] = []

    def add(self, el: Any, attribute: str, ok: bool, message: str) -> None:
        self.report.append(ImportItem(_owner_id(el), attribute, "mapped" if ok else "unsupported", message))

    def attribute(self, el: Any, name: str, value: str) -> None:
        tag = local(el.tag)
        if JUEL.search(value) and name != "assignee":
            self.add(
                el,
                f"camunda:{name}",
                False,
                f"JUEL 表达式 {value!r} 需改写为 Python 表达式 (JUEL is not executed)",
            )
        elif name == "candidateGroups":
            unknown = [
                r for r in value.split(",") if r.strip() and self.roles and r.strip() not in self.roles
            ]
            self.add(
                el,
                "camunda:candidateGroups",
                True,
                "候选角色 (roles)"
                + (f"；角色 {', '.join(unknown)} 不存在，请在角色中创建或改选" if unknown else ""),
            )
        elif name == "candidateUsers":
            self.add(el, "camunda:candidateUsers", True, "候选人 (candidate users)")
        elif name == "assignee":
            self._assignee(el, value)
        elif name == "formKey":
            ok = bool(re.fullmatch(r"[\w-]+", value))
            missing = ok and self.forms and value not in self.forms
            self.add(
                el,
                "camunda:formKey",
                ok,
                ("表单 (form)" + (f"；表单 {value} 尚不存在，请在表单设计器中创建" if missing else ""))
                if ok
                else f"表单引用 {value!r} 不是表单标识（embedded/外部表单不受支持）",
            )
        elif name == "dueDate":
            self.add(
                el,
                "camunda:dueDate",
                bool(DURATION.match(value)),
                "期限 (SLA)" if DURATION.match(value) else f"期限 {value!r} 不是 ISO-8601 时长或时间",
            )
        elif name in ("type", "topic"):
            ok = name == "topic" or value == "external"
            unknown = name == "topic" and self.connectors and value not in self.connectors
            self.add(
                el,
                f"camunda:{name}",
                ok,
                ("连接器 (connector)" + (f"；连接器 {value} 未注册" if unknown else ""))
                if ok
                else f"camunda:type={value!r} 不受支持，仅支持 external",
            )
        elif name == "resultVariable" and tag == "messageEventDefinition":
            self.add(el, "camunda:resultVariable", True, "消息内容写入该变量 (message payload variable)")
        elif name == "decisionRef" and tag == "businessRuleTask":
            self.add(el, "camunda:decisionRef", True, "DMN 决策 (decision)")
        elif name in UNSUPPORTED_ATTRS:
            self.add(el, f"camunda:{name}", False, UNSUPPORTED_ATTRS[name])
        elif name in IGNORED:
            self.add(el, f"camunda:{name}", False, "引擎不使用此属性，保留但忽略 (ignored by the platform)")
        else:
            self.add(
                el, f"camunda:{name}", False, "未知的 Camunda 属性，保留但不会执行 (unknown, not executed)"
            )

    def _assignee(self, el: Any, value: str) -> None:
        simple = SIMPLE_JUEL.match(value)
        if simple:
            el.set(f"{{{HOSPITAL_NS}}}assigneeExpr", simple.group(1))
            del el.attrib[f"{{{CAMUNDA_NS}}}assignee"]
            self.add(
                el, "camunda:assignee", True, f'已转换为 hospital:assigneeExpr="{simple.group(1)}" (Python)'
            )
        elif JUEL.search(value):
            self.add(
                el,
                "camunda:assignee",
                False,
                f"JUEL 表达式 {value!r} 需改写为 hospital:assigneeExpr (Python)",
            )
        else:
            self.add(el, "camunda:assignee", True, "办理人 (fixed assignee)")

    def extension(self, el: Any) -> None:
        name = local(el.tag)
        if name in UNSUPPORTED_ELEMENTS:
            self.add(el, f"camunda:{name}", False, UNSUPPORTED_ELEMENTS[name])
        elif name == "inputParameter":
            nested = [local(c.tag) for c in el if isinstance(c.tag, str)]
            if nested:
                self.add(
                    el,
                    f"camunda:inputParameter[{el.get('name')}]",
                    False,
                    f"参数 {el.get('name')} 使用 {'/'.join(nested)}（脚本/列表/映射）不受支持；"
                    "请写成 Python 表达式",
                )
            elif JUEL.search(el.text or ""):
                self.add(
                    el,
                    f"camunda:inputParameter[{el.get('name')}]",
                    False,
                    f"参数 {el.get('name')} 的 JUEL 表达式需改写为 Python 表达式",
                )
            else:
                self.add(
                    el, f"camunda:inputParameter[{el.get('name')}]", True, "连接器参数 (connector parameter)"
                )
        elif name == "property":
            self.add(el, f"camunda:property[{el.get('name')}]", True, "扩展属性 (properties)")

    def condition(self, el: Any) -> None:
        text, language = (el.text or "").strip(), el.get("language")
        if JUEL.search(text):
            self.add(
                el,
                "conditionExpression",
                False,
                f'JUEL 条件 {text!r} 需改写为 Python 表达式，例如 outcome == "approve"',
            )
        elif language and language.lower() not in ("python", "py"):
            self.add(el, "conditionExpression", False, f"条件语言 {language} 不受支持，仅支持 Python")

    def script(self, el: Any) -> None:
        fmt = (el.get("scriptFormat") or "python").lower()
        if fmt not in ("python", "py"):
            self.add(el, "scriptFormat", False, f"脚本语言 {fmt} 不受支持，仅支持 Python")


def import_bpmn(xml: str, *, roles: set[str], forms: set[str], connectors: set[str]) -> BpmnImportReport:
    """Map a Camunda Modeler 7 (or other tool's) BPMN onto the platform's attributes, with a full report.

    Args:
        xml: the uploaded BPMN text.
        roles, forms, connectors: what exists, to flag references to unknown ones.

    Raises:
        InvalidDefinition: the XML is malformed.
    """
    root = parse_xml(xml)
    imp = _Importer(roles, forms, connectors)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        ns = etree.QName(el).namespace
        if ns == ZEEBE_NS:
            imp.add(el, f"zeebe:{local(el.tag)}", False, "Camunda 8 (zeebe) 扩展不受支持")
            continue
        if ns == CAMUNDA_NS:
            imp.extension(el)
        for key, value in list(el.attrib.items()):
            qname = etree.QName(key) if key.startswith("{") else None
            if qname and qname.namespace == CAMUNDA_NS:
                imp.attribute(el, qname.localname, value)
            elif qname and qname.namespace == ZEEBE_NS:
                imp.add(el, f"zeebe:{qname.localname}", False, "Camunda 8 (zeebe) 扩展不受支持")
        if ns == BPMN_NS and local(el.tag) == "conditionExpression":
            imp.condition(el)
        elif ns == BPMN_NS and local(el.tag) == "scriptTask":
            imp.script(el)
    etree.cleanup_namespaces(root, top_nsmap={"hospital": HOSPITAL_NS, "camunda": CAMUNDA_NS})
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return BpmnImportReport(text, imp.report)
