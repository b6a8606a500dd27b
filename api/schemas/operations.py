"""Request/response models of the approval operation and notification endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.workflow import TaskOut

Reason = Field(default="", max_length=1000)


class ReasonIn(BaseModel):
    reason: str = Reason


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    reason: str = Reason


class AddSignerIn(UserIn):
    position: Literal["before", "after", "countersign"] = "after"


class SendBackIn(BaseModel):
    target: str = Field(default="previous", max_length=100)
    reason: str = Field(min_length=1, max_length=1000)


class CcIn(BaseModel):
    usernames: list[str] = Field(min_length=1, max_length=50)
    reason: str = Reason


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=5000)
    task_id: str | None = None


class AdminApproveIn(BaseModel):
    outcome: str = Field(default="approve", max_length=50)
    data: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=1000)


class AdminResetIn(BaseModel):
    node_id: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=1000)


class BulkReassignIn(BaseModel):
    from_user: str = Field(min_length=1, max_length=100)
    to_user: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=1000)


class BulkApproveIn(BaseModel):
    task_ids: list[str] = Field(min_length=1, max_length=200)
    reason: str = Reason


class TasksOut(BaseModel):
    tasks: list[TaskOut]


class SignerOut(BaseModel):
    id: str
    username: str
    kind: str
    position: int
    state: str
    outcome: str | None
    task_id: str | None
    added_by: str
    removable: bool = False  # the caller may 减签 this signer now


class CommentOut(BaseModel):
    id: str
    instance_id: str
    task_id: str | None
    author: str
    body: str
    created_at: datetime


class AttachmentOut(BaseModel):
    id: str
    instance_id: str
    task_id: str | None
    uploaded_by: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class TimelineOut(BaseModel):
    at: datetime
    actor: str
    action: str
    task_id: str | None
    reason: str
    override: bool
    details: dict[str, Any]


class BulkResultOut(BaseModel):
    task_id: str
    ok: bool
    error: str


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    urgent: bool
    instance_id: str | None
    task_id: str | None
    created_at: datetime
    read_at: datetime | None


class UnreadOut(BaseModel):
    unread: int
    by_kind: dict[str, int] = {}  # unread per notification kind (assigned, urged, cc, sent_back, …)


class MarkReadIn(BaseModel):
    ids: list[str] | None = None
