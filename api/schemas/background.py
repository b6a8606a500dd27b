"""Request/response models of the message, incident and webhook endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class MessageIn(BaseModel):
    correlation_key: str | None = Field(None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(None, max_length=200)
    ttl_seconds: int | None = Field(None, ge=1, le=90 * 86400)
    institution: str | None = None


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=1000)


class SkipIn(BaseModel):
    reason: str = Field(..., min_length=1, max_length=1000)
    result: Any = None


class BulkRetryIn(BaseModel):
    ids: list[str] | None = None
    connector: str | None = None
    since: datetime | None = None
    reason: str = Field("", max_length=1000)


class WebhookIn(BaseModel):
    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., min_length=1)
    secret: str | None = Field(None, min_length=16, max_length=128)
    description: str = Field("", max_length=300)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    secret: str | None = None
