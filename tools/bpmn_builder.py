"""Tiny BPMN 2.0 writer with grid layout, used to author the reference processes.

The generated files under processes/ are the source of truth once committed (analysts edit them
in the modeler); this builder exists so the first versions have a consistent left-to-right
diagram. Each node is placed on a (col, row) grid; sequence flows are routed orthogonally.

Route styles for flows:
  h      straight horizontal (same row)
  hv     leave src sideways, run horizontally to the target's centre x, enter top/bottom
  vh     leave src top/bottom, run vertically to the target's centre y, enter left/right
  below  down from src, along a lane under both, up into the target's bottom (loops)
  above  same, over the top
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "hospital": "http://hospital-workflow.org/schema/1.0/bpmn",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

COL_W = 150
ROW_H = 130
X0 = 80
Y0 = 80

SIZES = {
    "task": (100, 80),
    "gateway": (50, 50),
    "event": (36, 36),
}


@dataclass
class Node:
    id: str
    kind: str  # startEvent, endEvent, userTask, ...
    name: str
    col: float = 0
    row: float = 0
    attrs: dict = field(default_factory=dict)
    body: str = ""  # inner XML (extensionElements, eventDefinitions, script)
    attached_to: str | None = None
    frac: float = 0.5  # boundary position along the bottom edge
    parent: str | None = None
    incoming: list = field(default_factory=list)
    outgoing: list = field(default_factory=list)

    @property
    def shape(self):
        if self.kind.endswith("Gateway"):
            return "gateway"
        if self.kind.endswith("Event"):
            return "event"
        return "task"


@dataclass
class Flow:
    id: str
    src: str
    tgt: str
    name: str | None = None
    cond: str | None = None
    route: str | None = None


def q(v):
    return quoteattr(str(v))


class Process:
    def __init__(self, key, name, *, title, start_roles, documentation=""):
        self.key = key
        self.name = name
        self.title = title
        self.start_roles = start_roles
        self.documentation = documentation
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.messages: dict[str, str] = {}  # message name -> id
        self.defaults: dict[str, str] = {}  # gateway id -> flow id
        self.geo = {}

    # ---------------------------------------------------------------- nodes
    def _add(self, node):
        assert node.id not in self.nodes, node.id
        self.nodes[node.id] = node
        return node

    def message(self, name):
        mid = f"Message_{name}"
        self.messages[name] = mid
        return mid

    def start(self, id, name, col, row, message=None, result=None, form=None):
        body = ""
        attrs = {}
        if form:
            attrs["camunda:formKey"] = form
        if message:
            mid = self.message(message)
            rv = f' camunda:resultVariable="{result or message}"'
            body = f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{mid}"{rv} />'
        return self._add(Node(id, "startEvent", name, col, row, attrs, body))

    def end(self, id, name, col, row, parent=None):
        return self._add(Node(id, "endEvent", name, col, row, parent=parent))

    def user(self, id, name, col, row, *, groups, form, sla=None, due=None, outcomes=None,
             readonly=None, hidden=None, institution=None, escalation=None, countersign=None,
             signers=None, assignee_expr=None, parent=None, doc=None):
        a = {"camunda:candidateGroups": groups, "camunda:formKey": form}
        if due:
            a["camunda:dueDate"] = due
        if sla:
            a["hospital:sla"] = sla
        if escalation:
            a["hospital:escalation"] = escalation
        if outcomes:
            a["hospital:outcomes"] = outcomes
        if readonly:
            a["hospital:readonlyFields"] = readonly
        if hidden:
            a["hospital:hiddenFields"] = hidden
        if institution:
            a["hospital:institutionExpr"] = institution
        if countersign:
            a["hospital:countersign"] = countersign
        if signers:
            a["hospital:signersExpr"] = signers
        if assignee_expr:
            a["hospital:assigneeExpr"] = assignee_expr
        n = self._add(Node(id, "userTask", name, col, row, a, parent=parent))
        n.doc = doc
        return n

    def service(self, id, name, col, row, *, topic, inputs, result, parent=None):
        params = "".join(
            f'<camunda:inputParameter name="{k}">{escape(v)}</camunda:inputParameter>'
            for k, v in inputs.items())
        body = (f"<bpmn:extensionElements><camunda:inputOutput>{params}"
                f"</camunda:inputOutput></bpmn:extensionElements>")
        a = {"camunda:type": "external", "camunda:topic": topic, "hospital:resultVariable": result}
        return self._add(Node(id, "serviceTask", name, col, row, a, body, parent=parent))

    def rule(self, id, name, col, row, decision, parent=None):
        return self._add(Node(id, "businessRuleTask", name, col, row,
                              {"camunda:decisionRef": decision}, parent=parent))

    def script(self, id, name, col, row, script, parent=None):
        body = f"<bpmn:script>{escape(script)}</bpmn:script>"
        return self._add(Node(id, "scriptTask", name, col, row, {"scriptFormat": "python"}, body,
                              parent=parent))

    def xgw(self, id, name, col, row, parent=None):
        return self._add(Node(id, "exclusiveGateway", name, col, row, parent=parent))

    def pgw(self, id, name, col, row, parent=None):
        return self._add(Node(id, "parallelGateway", name, col, row, parent=parent))

    def egw(self, id, name, col, row, parent=None):
        return self._add(Node(id, "eventBasedGateway", name, col, row, parent=parent))

    def catch_msg(self, id, name, col, row, message, result=None, parent=None):
        mid = self.message(message)
        body = (f'<bpmn:messageEventDefinition id="{id}_def" messageRef="{mid}" '
                f'camunda:resultVariable="{result or message}" />')
        return self._add(Node(id, "intermediateCatchEvent", name, col, row, body=body, parent=parent))

    def catch_timer(self, id, name, col, row, duration, parent=None):
        body = (f'<bpmn:timerEventDefinition id="{id}_def"><bpmn:timeDuration '
                f'xsi:type="bpmn:tFormalExpression">{escape(duration)}</bpmn:timeDuration>'
                f'</bpmn:timerEventDefinition>')
        return self._add(Node(id, "intermediateCatchEvent", name, col, row, body=body, parent=parent))

    def boundary_timer(self, id, name, attached_to, duration, interrupting=True, frac=0.7):
        body = (f'<bpmn:timerEventDefinition id="{id}_def"><bpmn:timeDuration '
                f'xsi:type="bpmn:tFormalExpression">{escape(duration)}</bpmn:timeDuration>'
                f'</bpmn:timerEventDefinition>')
        host = self.nodes[attached_to]
        a = {"attachedToRef": attached_to}
        if not interrupting:
            a["cancelActivity"] = "false"
        n = Node(id, "boundaryEvent", name, host.col, host.row, a, body, attached_to, frac,
                 parent=host.parent)
        return self._add(n)

    def subprocess(self, id, name, parent=None):
        return self._add(Node(id, "subProcess", name, 0, 0, parent=parent))

    # ---------------------------------------------------------------- flows
    def flow(self, src, tgt, name=None, cond=None, route=None, default=False, id=None):
        fid = id or f"flow_{src}_to_{tgt}"
        f = Flow(fid, src, tgt, name, cond, route)
        self.flows.append(f)
        self.nodes[src].outgoing.append(fid)
        self.nodes[tgt].incoming.append(fid)
        if default:
            self.defaults[src] = fid
        return f

    def chain(self, *ids):
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)

    # ---------------------------------------------------------------- layout
    def _layout(self):
        geo = {}
        for n in self.nodes.values():
            if n.kind in ("subProcess", "boundaryEvent"):
                continue
            w, h = SIZES[n.shape]
            cx = X0 + n.col * COL_W + 50
            cy = Y0 + n.row * ROW_H + 40
            geo[n.id] = (cx - w / 2, cy - h / 2, w, h)
        for n in self.nodes.values():
            if n.kind == "subProcess":
                kids = [geo[k.id] for k in self.nodes.values() if k.parent == n.id and k.id in geo]
                x1 = min(g[0] for g in kids) - 30
                y1 = min(g[1] for g in kids) - 40
                x2 = max(g[0] + g[2] for g in kids) + 30
                y2 = max(g[1] + g[3] for g in kids) + 40
                geo[n.id] = (x1, y1, x2 - x1, y2 - y1)
        for n in self.nodes.values():
            if n.kind == "boundaryEvent":
                hx, hy, hw, hh = geo[n.attached_to]
                geo[n.id] = (hx + hw * n.frac - 18, hy + hh - 18, 36, 36)
        self.geo = geo

    def _route(self, f):
        s, t = self.geo[f.src], self.geo[f.tgt]
        sn, tn = self.nodes[f.src], self.nodes[f.tgt]
        scx, scy = s[0] + s[2] / 2, s[1] + s[3] / 2
        tcx, tcy = t[0] + t[2] / 2, t[1] + t[3] / 2
        style = f.route
        if style is None:
            if abs(scy - tcy) < 1 and tcx > scx:
                style = "h"
            elif abs(scx - tcx) < 1:
                style = "v"
            elif tcx < scx:
                style = "below"
            elif sn.shape == "gateway" or sn.kind == "boundaryEvent":
                style = "vh"
            else:
                style = "hv"
        if style == "h":
            return [(s[0] + s[2], scy), (t[0], tcy)] if tcx > scx else [(s[0], scy), (t[0] + t[2], tcy)]
        if style == "v":
            if tcy > scy:
                return [(scx, s[1] + s[3]), (tcx, t[1])]
            return [(scx, s[1]), (tcx, t[1] + t[3])]
        if style == "hv":
            sx = s[0] + s[2] if tcx > scx else s[0]
            ty = t[1] if tcy > scy else t[1] + t[3]
            return [(sx, scy), (tcx, scy), (tcx, ty)]
        if style == "vh":
            sy = s[1] + s[3] if tcy > scy else s[1]
            tx = t[0] if tcx > scx else t[0] + t[2]
            return [(scx, sy), (scx, tcy), (tx, tcy)]
        if style == "below":
            y = max(s[1] + s[3], t[1] + t[3]) + 30
            return [(scx, s[1] + s[3]), (scx, y), (tcx, y), (tcx, t[1] + t[3])]
        if style == "above":
            y = min(s[1], t[1]) - 30
            return [(scx, s[1]), (scx, y), (tcx, y), (tcx, t[1])]
        raise ValueError(style)

    # ---------------------------------------------------------------- xml
    def _node_xml(self, n, ind):
        attrs = {"id": n.id, "name": n.name}
        attrs.update(n.attrs)
        if n.id in self.defaults:
            attrs["default"] = self.defaults[n.id]
        a = " ".join(f"{k}={q(v)}" for k, v in attrs.items())
        inner = []
        doc = getattr(n, "doc", None)
        if doc:
            inner.append(f"<bpmn:documentation>{escape(doc)}</bpmn:documentation>")
        if n.body and n.body.startswith("<bpmn:extensionElements"):
            inner.append(n.body)
        inner += [f"<bpmn:incoming>{i}</bpmn:incoming>" for i in n.incoming]
        inner += [f"<bpmn:outgoing>{o}</bpmn:outgoing>" for o in n.outgoing]
        if n.body and not n.body.startswith("<bpmn:extensionElements"):
            inner.append(n.body)
        if n.kind == "subProcess":
            inner += self._children_xml(n.id, ind + "  ")
            return f'{ind}<bpmn:subProcess {a}>\n' + "\n".join(
                x if x.startswith(ind) else f"{ind}  {x}" for x in inner) + f"\n{ind}</bpmn:subProcess>"
        if not inner:
            return f"{ind}<bpmn:{n.kind} {a} />"
        return (f"{ind}<bpmn:{n.kind} {a}>\n" + "\n".join(f"{ind}  {x}" for x in inner)
                + f"\n{ind}</bpmn:{n.kind}>")

    def _children_xml(self, parent, ind):
        out = []
        for n in self.nodes.values():
            if n.parent == parent:
                out.append(self._node_xml(n, ind))
        for f in self.flows:
            if self.nodes[f.src].parent == parent:
                a = f'id="{f.id}" sourceRef="{f.src}" targetRef="{f.tgt}"'
                if f.name:
                    a += f" name={q(f.name)}"
                if f.cond:
                    out.append(f'{ind}<bpmn:sequenceFlow {a}>\n{ind}  <bpmn:conditionExpression '
                               f'xsi:type="bpmn:tFormalExpression">{escape(f.cond)}'
                               f'</bpmn:conditionExpression>\n{ind}</bpmn:sequenceFlow>')
                else:
                    out.append(f"{ind}<bpmn:sequenceFlow {a} />")
        return out

    def to_xml(self):
        self._layout()
        nsdecl = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 f'<bpmn:definitions {nsdecl} id="Definitions_{self.key}" '
                 f'targetNamespace="http://hospital-workflow.org/processes/{self.key}" '
                 f'exporter="hospital-workflow tools/bpmn_builder.py" exporterVersion="1.0">']
        for name, mid in self.messages.items():
            lines.append(f'  <bpmn:message id="{mid}" name="{name}" />')
        pa = (f'id="{self.key}" name={q(self.name)} isExecutable="true" '
              f'hospital:title={q(self.title)} hospital:startRoles={q(self.start_roles)}')
        lines.append(f"  <bpmn:process {pa}>")
        if self.documentation:
            lines.append(f"    <bpmn:documentation>{escape(self.documentation)}</bpmn:documentation>")
        lines += self._children_xml(None, "    ")
        lines.append("  </bpmn:process>")
        # diagram
        lines.append(f'  <bpmndi:BPMNDiagram id="Diagram_{self.key}">')
        lines.append(f'    <bpmndi:BPMNPlane id="Plane_{self.key}" bpmnElement="{self.key}">')
        order = sorted(self.nodes.values(), key=lambda n: (n.kind != "subProcess", n.kind == "boundaryEvent"))
        for n in order:
            x, y, w, h = self.geo[n.id]
            extra = ' isExpanded="true"' if n.kind == "subProcess" else ""
            mk = ' isMarkerVisible="true"' if n.kind == "exclusiveGateway" else ""
            lines.append(f'      <bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{extra}{mk}>')
            lines.append(f'        <dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" />')
            if n.shape in ("event", "gateway") and n.name:
                lines.append(f'        <bpmndi:BPMNLabel><dc:Bounds x="{x + w / 2 - 45:.0f}" '
                             f'y="{y + h + 4:.0f}" width="90" height="27" /></bpmndi:BPMNLabel>')
            lines.append("      </bpmndi:BPMNShape>")
        for f in self.flows:
            pts = self._route(f)
            lines.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
            for px, py in pts:
                lines.append(f'        <di:waypoint x="{px:.0f}" y="{py:.0f}" />')
            if f.name:
                (x1, y1), (x2, y2) = pts[0], pts[1]
                lx = (x1 + x2) / 2 - 30 if abs(y1 - y2) < 1 else x1 + 4
                ly = y1 - 22 if abs(y1 - y2) < 1 else (y1 + y2) / 2 - 10
                lines.append(f'        <bpmndi:BPMNLabel><dc:Bounds x="{lx:.0f}" y="{ly:.0f}" '
                             f'width="70" height="14" /></bpmndi:BPMNLabel>')
            lines.append("      </bpmndi:BPMNEdge>")
        lines.append("    </bpmndi:BPMNPlane>")
        lines.append("  </bpmndi:BPMNDiagram>")
        lines.append("</bpmn:definitions>")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- DMN
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(decision_id, name, hit_policy, inputs, outputs, rules):
    """inputs: [(id, label, expression)], outputs: [(name, label, typeRef)],
    rules: [([input entries], [output entries], description)]"""
    L = ['<?xml version="1.0" encoding="UTF-8"?>',
         f'<definitions xmlns="{DMN_NS}" id="Definitions_{decision_id}" name={q(name)} '
         f'namespace="http://hospital-workflow.org/dmn">',
         f'  <decision id="{decision_id}" name={q(name)}>',
         f'    <decisionTable id="Table_{decision_id}" hitPolicy="{hit_policy}">']
    for i, (iid, label, expr) in enumerate(inputs):
        L.append(f'      <input id="Input_{iid}" label={q(label)}>')
        L.append(f'        <inputExpression id="InputExpr_{iid}" typeRef="string">'
                 f'<text>{escape(expr)}</text></inputExpression>')
        L.append("      </input>")
    for oname, label, typ in outputs:
        L.append(f'      <output id="Output_{oname}" label={q(label)} name="{oname}" typeRef="{typ}" />')
    for r, (ins, outs, desc) in enumerate(rules, 1):
        L.append(f'      <rule id="Rule_{decision_id}_{r}">')
        if desc:
            L.append(f"        <description>{escape(desc)}</description>")
        for j, e in enumerate(ins):
            L.append(f'        <inputEntry id="In_{decision_id}_{r}_{j}"><text>{escape(e)}</text></inputEntry>')
        for j, e in enumerate(outs):
            L.append(f'        <outputEntry id="Out_{decision_id}_{r}_{j}"><text>{escape(e)}</text></outputEntry>')
        L.append("      </rule>")
    L += ["    </decisionTable>", "  </decision>", "</definitions>"]
    return "\n".join(L) + "\n"
