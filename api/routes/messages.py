"""Deliver messages (payment result, HIS settlement, patient downloaded …) from external systems."""
from __future__ import annotations

from fastapi import APIRouter

import engine
from api.deps import Ctx, CurrentSubject, allowed_somewhere
from api.schemas.background import MessageIn

router = APIRouter(prefix="/api", tags=["messages"])


@router.post("/messages/{name}", response_model=engine.DeliveryResult, status_code=202)
def deliver(name: str, body: MessageIn, ctx: Ctx, subject: CurrentSubject) -> engine.DeliveryResult:
    """Correlate to the waiting instance, start instances (message start), or buffer with a TTL."""
    return engine.deliver_message(ctx, name, correlation_key=body.correlation_key, payload=body.payload,
                                  idempotency_key=body.idempotency_key, ttl_seconds=body.ttl_seconds,
                                  sender=subject.username, institution=body.institution)


@router.get("/messages", dependencies=[allowed_somewhere("message", "read")])
def recent(ctx: Ctx, subject: CurrentSubject, status: str | None = None, name: str | None = None,
           limit: int = 100) -> list[dict]:
    return engine.list_messages(ctx, status=status, name=name, limit=min(limit, 500))
