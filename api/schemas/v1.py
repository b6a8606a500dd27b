"""Request/response models of the external API v1 (stable contract; see README "External API v1")."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorField(BaseModel):
    pointer: str
    message: str
    validator: str | None = None


class ErrorOut(BaseModel):
    """Every error: a stable machine code, a Chinese-first message, and field errors when validating."""
    error: str = Field(examples=["NotFound"])
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["流程实例不存在 (instance not found)"])
    detail: Any = None
    fields: list[ErrorField] = Field(default_factory=list)


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422, 429)
}


class StartV1(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "business_key": "MR-2024-001", "institution": "rmyy_main", "initiator_ref": "patient-app:u123",
        "payload": {"patient_name": "张三", "purpose": "insurance"}, "idempotency_key": "req-0001"}]})
    business_key: str | None = Field(default=None, max_length=200)
    institution: str = Field(min_length=1, max_length=100)
    initiator_ref: str | None = Field(default=None, max_length=100,
                                      description="the caller's own reference of the person starting it")
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, max_length=200,
                                        description="or header Idempotency-Key (the header wins)")


class StepOut(BaseModel):
    task_id: str
    step: str
    name: str
    candidate_roles: list[str]
    assignee: str | None
    since: datetime
    due_at: datetime | None


class HistoryOut(BaseModel):
    step: str
    name: str
    outcome: str | None
    completed_by: str | None
    completed_at: datetime | None
    state: str


class InstanceV1(BaseModel):
    id: str
    process_key: str
    version: int
    business_key: str | None
    institution: str
    initiator: str
    title: str
    state: str = Field(description="running | completed | cancelled | suspended | error")
    created_at: datetime
    ended_at: datetime | None
    current_steps: list[StepOut]
    history: list[HistoryOut]


class InstanceList(BaseModel):
    items: list[InstanceV1]


class MessageV1(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "correlation_key": "MR-2024-001", "payload": {"status": "paid", "amount": 6.0, "trade_no": "T001"},
        "delivery_id": "pay-T001"}]})
    correlation_key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    delivery_id: str | None = Field(default=None, max_length=200,
                                    description="idempotency: the same delivery id twice has one effect")
    institution: str | None = Field(default=None, max_length=100)
    ttl_seconds: int | None = Field(default=None, ge=1, le=30 * 86400)


class DeliveryV1(BaseModel):
    message_id: str
    status: str = Field(description="delivered | started | buffered")
    instance_ids: list[str]
    duplicate: bool


class CancelV1(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class WebhookIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://his.example.cn/hooks/workflow", "events": ["instance.completed", "task.created"],
        "description": "HIS 状态回调"}]})
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://")
    events: list[str] = Field(min_length=1, max_length=50)
    description: str = Field(default="", max_length=300)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    secret: str | None = Field(default=None, description="returned once, at creation")


class TodoOut(BaseModel):
    task_id: str
    title: str
    process_key: str
    process_title: str
    current_step: str
    urgency: str = Field(description="urgent | overdue | normal")
    received_at: datetime
    due_at: datetime | None
    link: str = Field(description="/api/auth/sso/open?next=/tasks/<id>: opens the task, signing in "
                                  "through the portal's auth centre when needed")


class AnnouncementIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    department: str = Field(default="", max_length=200)
    published_on: date | None = None
    link: str = Field(default="", max_length=500)
    institution: str = Field(default="*", max_length=100)
    audience_departments: list[str] = Field(default_factory=list)
    audience_roles: list[str] = Field(default_factory=list)
