"""Instance page read model: the deployed BPMN XML, node highlights, a timeline and current assignees."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import NotFound, PermissionDenied
from engine.inbox import candidate_filter
from engine.inbox_queries import cc_instances
from engine.instances import _view
from engine.models import AuditRecord, Definition, HumanTask, Instance
from engine.models import human_task as ht
from engine.subject import Subject
from engine.views import InstanceView


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    step: str = ""
    outcome: str | None = None
    reason: str = ""


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


def may_read_instance(session: Session, subject: Subject, instance: Instance) -> bool:
    """Initiator, anyone who holds/held one of its tasks (or may claim an open one), or a CC reader."""
    if instance.initiator == subject.username:
        return True
    involved = select(HumanTask.id).where(HumanTask.instance_id == instance.id, or_(
        HumanTask.assignee == subject.username, HumanTask.completed_by == subject.username,
        (HumanTask.state == ht.OPEN) & candidate_filter(subject)))
    if session.scalar(involved.limit(1)) is not None:
        return True
    cc = cc_instances(subject)
    return cc is not None and session.scalar(
        cc.with_only_columns(Instance.id).where(Instance.id == instance.id)) is not None


def bpmn_xml(definition: Definition) -> str:
    """The deployed BPMN source (the first .bpmn file of the bundle)."""
    files = sorted(definition.files.items())
    return next((text for name, text in files if name.lower().endswith(".bpmn")), "")


def _timeline(session: Session, instance: Instance, names: dict[str, str]) -> list[TimelineEntry]:
    entries = []
    for record in session.scalars(select(AuditRecord).where(AuditRecord.instance_id == instance.id)
                                  .order_by(AuditRecord.seq)):
        details = record.details or {}
        node = details.get("node_id", "")
        entries.append(TimelineEntry(_utc(record.at), record.actor, record.action, names.get(node, node),
                                     details.get("outcome"), record.reason))
    return entries


def _node_states(ctx: EngineContext, instance: Instance, definition: Definition, tasks: list[HumanTask]
                 ) -> dict[str, str]:
    states: dict[str, str] = {}
    try:
        specs = ctx.specs.get(definition.id, definition.spec_json, ctx.runtime)
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
        PermissionDenied: the subject is neither initiator, participant, candidate nor CC reader.
    """
    with ctx.db.unit_of_work() as session:
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound("流程实例不存在 (instance not found)", instance_id=instance_id)
        if not may_read_instance(session, subject, instance):
            raise PermissionDenied("无权查看此流程 (not allowed to read this instance)",
                                   instance_id=instance_id)
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
            timeline=_timeline(session, instance, names),
            assignees=assignees,
        )


def definition_xml(ctx: EngineContext, process_key: str, version: int | None = None) -> str:
    """The BPMN XML of a deployed definition (latest version unless given)."""
    with ctx.db.unit_of_work() as session:
        query = select(Definition).where(Definition.process_key == process_key)
        query = query.where(Definition.version == version) if version else \
            query.order_by(Definition.version.desc()).limit(1)
        row = session.scalar(query)
        if row is None:
            raise NotFound(f"流程 {process_key} 未部署 (process not deployed)", process_key=process_key)
        return bpmn_xml(row)
