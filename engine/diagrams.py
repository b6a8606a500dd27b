"""Instance page read model: the deployed BPMN XML, node highlights, a timeline and current assignees."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import NotFound
from engine.instances import _view
from engine.models import Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.operations.comments import TimelineEntry, timeline_entries
from engine.permissions import authorize, run_command
from engine.subject import Subject
from engine.views import InstanceView


@dataclass(frozen=True)
class InstanceOverview:
    instance: InstanceView
    process_name: str
    bpmn_xml: str
    # node id -> "completed" | "current" | "overdue"
    node_states: dict[str, str]
    timeline: list[TimelineEntry]
    assignees: dict[str, list[str]] = field(default_factory=dict)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bpmn_xml(definition: Definition) -> str:
    """The deployed BPMN source (the first .bpmn file of the bundle)."""
    files = sorted(definition.files.items())
    return next((text for name, text in files if name.lower().endswith(".bpmn")), "")


def _node_states(ctx: EngineContext, instance: Instance, definition: Definition, tasks: list[HumanTask]
                 ) -> dict[str, str]:
    states: dict[str, str] = {}
    try:
        specs = ctx.specs.get(definition, ctx.runtime)
        for node in ctx.runtime.completed_node_ids(ctx.runtime.restore(specs, instance.state)):
            states[node] = "completed"
    except Exception:  # noqa: BLE001 - a diagram must still render if the state cannot be restored
        pass
    now = ctx.clock.now()
    for task in tasks:
        if task.state == ht.COMPLETED:
            states.setdefault(task.node_id, "completed")
    for task in tasks:
        if task.state == ht.OPEN:
            due = _utc(task.due_at)
            states[task.node_id] = "overdue" if due and due < now else "current"
    return states


def instance_overview(ctx: EngineContext, instance_id: str, subject: Subject) -> InstanceOverview:
    """Everything the instance page shows, if the subject may follow this instance.

    Raises:
        NotFound: no such instance.
        PermissionDenied: the subject may not read the instance (audited).
    """
    def command(session: Session) -> InstanceOverview:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
        authorize(ctx, session, subject, "read", instance=instance)
        definition = session.get(Definition, instance.definition_id)
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                                     .order_by(HumanTask.seq)))
        names = {k: v.get("name", k) for k, v in (definition.steps or {}).items()}
        assignees = {t.id: ([t.assignee] if t.assignee else
                            list(t.candidate_users or []) + [f"@{r}" for r in t.candidate_roles or []])
                     for t in tasks if t.state == ht.OPEN}
        return InstanceOverview(
            instance=_view(session, instance, history=True),
            process_name=definition.name,
            bpmn_xml=bpmn_xml(definition),
            node_states=_node_states(ctx, instance, definition, tasks),
            timeline=timeline_entries(session, instance.id, names),
            assignees=assignees,
        )

    return run_command(ctx, command)

