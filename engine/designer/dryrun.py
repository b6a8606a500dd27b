"""Dry-run a draft in memory: sample data, simulated outcomes, the path taken and who gets each task.

Nothing is written: the workflow lives only in this call (BpmnRuntime: parse_bundle, new_workflow,
advance, ready_steps, complete_step). Connector calls and catch events are pretended to happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.bpmn import simulation
from engine.context import EngineContext
from engine.designer.store import designer_bundle
from engine.designer.xml import NS, parse_xml
from engine.errors import EngineError

MAX_STEPS = 200
DEFAULT_OUTCOMES = ["approve", "reject"]


@dataclass(frozen=True)
class DryRunTask:
    """One human task the run created, with who would get it."""

    element_id: str
    name: str
    roles: list[str]
    users: list[str]
    assignee: str | None
    countersign: str | None
    signers: list[str]
    form: str | None
    outcome: str | None
    institution: str | None


@dataclass(frozen=True)
class DryRunResult:
    path: list[str]
    tasks: list[DryRunTask] = field(default_factory=list)
    end_state: str = ""
    waiting: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def _evaluate(ctx: EngineContext, expression: str | None, data: dict[str, Any]) -> Any:
    if not expression:
        return None
    try:
        return ctx.runtime.evaluate(expression, data)
    except Exception as exc:  # noqa: BLE001 - a bad expression is a finding, not a crash
        return f"<表达式错误: {exc}>"


def _task(ctx: EngineContext, step: Any, outcome: str | None, institution: str) -> DryRunTask:
    ext = step.extensions
    roles = list(ext.get("candidateGroups") or ([ext["laneRole"]] if ext.get("laneRole") else []))
    assignee = _evaluate(ctx, ext.get("assigneeExpr"), step.data) or ext.get("assignee")
    signers = _evaluate(ctx, ext.get("signersExpr"), step.data)
    signers = (
        [str(s) for s in signers]
        if isinstance(signers, (list, tuple, set))
        else ([signers] if signers else [])
    )
    where = _evaluate(ctx, ext.get("institutionExpr"), step.data) or institution
    return DryRunTask(
        step.node_id,
        step.name,
        roles,
        list(ext.get("candidateUsers") or []),
        str(assignee) if assignee else None,
        ext.get("countersign"),
        signers,
        ext.get("formKey"),
        outcome,
        str(where) if where else None,
    )


def _with_flows(root: Any, nodes: list[str], current: list[str]) -> list[str]:
    """Insert the sequence flows between reached elements (Spiff does not record flows taken)."""
    reached = set(nodes) | set(current)
    by_source: dict[str, list[tuple[str, str]]] = {}
    for f in root.iterfind(".//bpmn:sequenceFlow", NS):
        by_source.setdefault(f.get("sourceRef"), []).append((f.get("id"), f.get("targetRef")))
    path: list[str] = []
    for node in nodes:
        path.append(node)
        path += [fid for fid, target in by_source.get(node, []) if target in reached and fid not in path]
    return path


def dry_run(
    ctx: EngineContext,
    xml: str,
    data: dict[str, Any] | None = None,
    outcomes: dict[str, str] | None = None,
    task_data: dict[str, dict[str, Any]] | None = None,
    *,
    institution: str = "h1",
    initiator: str = "dry_run",
) -> DryRunResult:
    """Run the draft in memory and report the path (element and flow ids), tasks and end state.

    Args:
        data: sample start data (as the start form would submit).
        outcomes: per user-task id, the outcome to choose (default: the task's first outcome).
        task_data: per task id, extra form data submitted with it (also the result of a connector).

    Raises:
        InvalidDefinition: the draft does not parse (a script error becomes the end state instead).
    """
    outcomes, task_data = outcomes or {}, task_data or {}
    root = parse_xml(xml)
    key, files = designer_bundle(ctx, xml)
    models = {n: c for n, c in files.items() if n.lower().endswith((".bpmn", ".dmn"))}
    specs = ctx.runtime.load_specs(ctx.runtime.parse_bundle(models, key).spec_json)
    start = {**(data or {}), "initiator": initiator, "institution": institution, "business_key": "DRY-RUN"}
    workflow = ctx.runtime.new_workflow(specs, start)
    seen: set[str] = set()
    nodes: list[str] = []
    tasks: list[DryRunTask] = []
    end_state = ""
    try:
        ctx.runtime.advance(workflow)
        for _ in range(MAX_STEPS):
            nodes += simulation.finished_since(workflow, seen)
            if ctx.runtime.is_completed(workflow):
                break
            ready = ctx.runtime.ready_steps(workflow)
            if ready:
                step = ready[0]
                allowed = list(step.extensions.get("outcomes") or DEFAULT_OUTCOMES)
                outcome = outcomes.get(step.node_id) or allowed[0]
                tasks.append(_task(ctx, step, outcome, institution))
                updates = {
                    **task_data.get(step.node_id, {}),
                    "outcome": outcome,
                    f"{step.node_id}_outcome": outcome,
                }
                ctx.runtime.complete_step(workflow, step.task_id, updates)
                continue
            waits = simulation.automatic_waits(workflow)
            if not waits:
                break
            simulation.pretend_done(workflow, waits[0].task_id, task_data)
            ctx.runtime.advance(workflow)
        else:
            end_state = f"stopped: more than {MAX_STEPS} steps (loop?)"
    except EngineError as exc:
        nodes += simulation.finished_since(workflow, seen)
        end_state = f"error: {exc.message}" + (
            f" @ {exc.element_id}" if getattr(exc, "element_id", None) else ""
        )
    current = simulation.current_ids(workflow)
    if not end_state:
        end_ids = {e.get("id") for e in root.iterfind(".//bpmn:endEvent", NS)}
        ends = [n for n in nodes if n in end_ids]
        end_state = (
            f"completed:{ends[-1] if ends else ''}"
            if ctx.runtime.is_completed(workflow)
            else f"waiting:{','.join(current)}"
        )
    return DryRunResult(
        _with_flows(root, nodes, current), tasks, end_state, current, ctx.runtime.data(workflow)
    )
