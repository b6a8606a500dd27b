"""Read models returned by engine queries and commands (plain data, no ORM objects leak out)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from engine.models import HumanTask, Instance


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: str
    node_id: str
    name: str
    process_key: str
    title: str
    form_key: str | None
    candidate_roles: list[str]
    candidate_users: list[str]
    institution: str
    assignee: str | None
    state: str
    due_at: datetime | None
    priority: int
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    outcome: str | None

    @classmethod
    def of(cls, t: HumanTask) -> TaskView:
        return cls(t.id, t.instance_id, t.node_id, t.name, t.process_key, t.title, t.form_key,
                   list(t.candidate_roles or []), list(t.candidate_users or []), t.institution, t.assignee,
                   t.state, t.due_at, t.priority, t.created_at, t.completed_at, t.completed_by, t.outcome)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InstanceView:
    id: str
    process_key: str
    definition_version: int
    business_key: str | None
    institution: str
    initiator: str
    title: str
    status: str
    created_at: datetime
    ended_at: datetime | None
    open_tasks: list[TaskView] = field(default_factory=list)
    history: list[TaskView] = field(default_factory=list)
    data: dict[str, Any] | None = None

    @classmethod
    def of(cls, i: Instance, version: int, tasks: list[HumanTask], data: dict[str, Any] | None = None
           ) -> InstanceView:
        views = [TaskView.of(t) for t in tasks]
        return cls(i.id, i.process_key, version, i.business_key, i.institution, i.initiator, i.title, i.status,
                   i.created_at, i.ended_at, [t for t in views if t.state == "open"],
                   [t for t in views if t.state != "open"], data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskDetail:
    """What one user may see of one task: the form without hidden fields, the data without them."""

    task: TaskView
    schema: dict[str, Any] | None
    ui: dict[str, Any]
    data: dict[str, Any]
    outcomes: list[str]
    readonly: list[str]
    instance: InstanceView
