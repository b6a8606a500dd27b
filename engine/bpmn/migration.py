"""Spec diff and instance migration between two versions of a process, on SpiffWorkflow's own tools.

Pure SpiffWorkflow glue (no database): `SpiffWorkflow.bpmn.util.diff` aligns task specs by BPMN id
(`SpecDiff`), maps the tasks of a running workflow onto the new spec (`diff_workflow`) and moves it
(`migrate_workflow`, which resets READY/WAITING branches and re-predicts them; task ids survive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, filter_tasks, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.parser import CAMUNDA_ATTRIBUTES

Specs = tuple[Any, dict[str, Any]]
CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Spec attributes that only mirror the graph or the library's bookkeeping; shown under friendlier names.
_FIELD_NAMES = {
    "bpmn_name": "name",
    "cond_task_specs": "conditions",
    "default_task_spec": "default",
    "typename": "type",
    "form": None,  # derived from camunda:formKey, reported there
    "description": None,  # the library's label of the type
    "lookahead": None,
}


def extension_attribute(key: str) -> str:
    """The XML attribute name of one `extensions` key (e.g. `formKey` → `camunda:formKey`)."""
    if key in CAMUNDA_ATTRIBUTES:
        return f"camunda:{key}"
    if key == "inputParameters":
        return "camunda:inputOutput"
    if key == "properties":
        return "camunda:properties"
    if key == "laneRole":
        return "lane"
    return f"hospital:{key}"


@dataclass(frozen=True)
class SpecChanges:
    """Elements (BPMN ids) added, removed and changed between two versions; `changed` maps id → fields."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)


def _fields(registry: Any, old: Any, new: Any, names: list[str]) -> list[str]:
    out: list[str] = []
    old_dict, new_dict = registry.convert(old), registry.convert(new)
    for name in names:
        if name == "extensions":
            a, b = old_dict.get("extensions") or {}, new_dict.get("extensions") or {}
            out += [extension_attribute(k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            continue
        label = _FIELD_NAMES.get(name, name)
        if label:
            out.append(label)
    return list(dict.fromkeys(out))


def _diff_one(registry: Any, old: Any, new: Any, result: SpecChanges) -> None:
    diff = SpecDiff(registry, old, new)
    result.added.extend(s.bpmn_id for s in diff.added if s.bpmn_id)
    result.removed.extend(s.bpmn_id for s in diff.removed if s is not None and s.bpmn_id)
    for spec, names in diff.changed.items():
        if spec.bpmn_id:
            fields = _fields(registry, spec, diff.alignment[spec], names)
            if fields:
                result.changed[spec.bpmn_id] = fields


def spec_changes(registry: Any, old: Specs, new: Specs) -> SpecChanges:
    """Compare two parsed versions (top-level process and every subprocess spec by name)."""
    result = SpecChanges()
    _diff_one(registry, old[0], new[0], result)
    for name, spec in old[1].items():
        if name in new[1]:
            _diff_one(registry, spec, new[1][name], result)
        else:
            result.removed.extend(t.bpmn_id for t in spec.task_specs.values() if t.bpmn_id)
    for name, spec in new[1].items():
        if name not in old[1]:
            result.added.extend(t.bpmn_id for t in spec.task_specs.values() if t.bpmn_id)
    return SpecChanges(sorted(set(result.added)), sorted(set(result.removed)), result.changed)


@dataclass(frozen=True)
class Waypoint:
    """Where a running instance stands: a READY user task, a waiting event or a running connector."""

    task_id: str
    node_id: str
    state: str
    manual: bool
    form_key: str | None
    data: dict[str, Any] = field(repr=False)


def _all_workflows(workflow: Any) -> list[Any]:
    return [workflow, *workflow.subprocesses.values()]


def current_waypoints(workflow: Any) -> list[Waypoint]:
    """Every READY/WAITING/STARTED task with a BPMN id, in the top-level workflow and its subprocesses."""
    points = []
    for wf in _all_workflows(workflow):
        for task in filter_tasks(list(wf.tasks.values()), state=CURRENT):
            spec = task.task_spec
            if not getattr(spec, "bpmn_id", None) or spec.bpmn_id in wf.subprocesses:
                continue
            ext = getattr(spec, "extensions", {}) or {}
            points.append(
                Waypoint(
                    str(task.id),
                    spec.bpmn_id,
                    TaskState.get_name(task.state),
                    bool(getattr(spec, "manual", False)),
                    ext.get("formKey"),
                    dict(task.data),
                )
            )
    return points


def migration_blockers(registry: Any, workflow: Any, new: Specs) -> list[tuple[str, str]]:
    """(node id, reason) for every current task that has no counterpart in the new version."""
    top, subs = diff_workflow(registry, workflow, new[0], new[1])
    problems = []
    for wf, diff in [(workflow, top), *[(workflow.subprocesses[k], d) for k, d in subs.items()]]:
        current = {t for t in filter_tasks(list(wf.tasks.values()), state=CURRENT)}
        if diff is None:
            problems += [
                (
                    t.task_spec.bpmn_id or t.task_spec.name,
                    f"子流程 {wf.spec.name} 在目标版本中不存在 (subprocess removed)",
                )
                for t in current
            ]
            continue
        for task in diff.removed:
            if task in current:
                node = task.task_spec.bpmn_id or task.task_spec.name
                problems.append((node, f"当前节点 {node} 在目标版本中不存在 (current step removed)"))
    return problems


def migrate(registry: Any, workflow: Any, new: Specs) -> None:
    """Move a workflow onto the new specs in place; call `migration_blockers` first.

    Raises:
        ValueError: when a current task cannot be aligned (the caller should have refused).
    """
    if migration_blockers(registry, workflow, new):
        raise ValueError("workflow cannot be migrated")
    top, subs = diff_workflow(registry, workflow, new[0], new[1])
    for sp_id, diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, new[1][sub.spec.name])
    migrate_workflow(top, workflow, new[0])
    workflow.subprocess_specs = new[1]
