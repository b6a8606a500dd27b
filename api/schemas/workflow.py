"""Request/response models of the workflow endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TaskOut(BaseModel):
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


class InstanceOut(BaseModel):
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
    open_tasks: list[TaskOut]
    history: list[TaskOut]


class StartIn(BaseModel):
    business_key: str | None = Field(default=None, max_length=200)
    institution: str = Field(max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, max_length=200)


class CompleteIn(BaseModel):
    outcome: str | None = Field(default=None, max_length=50)
    data: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(default="", max_length=1000)


class CompleteOut(BaseModel):
    instance: InstanceOut
    created: list[TaskOut]


class TaskDetailOut(BaseModel):
    task: TaskOut
    schema_: dict[str, Any] | None = Field(alias="schema", serialization_alias="schema")
    ui: dict[str, Any]
    data: dict[str, Any]
    outcomes: list[str]
    readonly: list[str]
    instance: InstanceOut


class DiagnosticOut(BaseModel):
    message: str
    element_id: str | None
    line: int | None
    severity: str
    file: str | None = None
    rule: str


class DeployOut(BaseModel):
    definition_id: str
    process_key: str
    version: int
    created: bool
    warnings: list[DiagnosticOut]


class DefinitionOut(BaseModel):
    id: str
    process_key: str
    version: int
    name: str
    content_hash: str
    deployed_by: str
    deployed_at: str
