"""The notification centre: list, unread count, mark read."""
from __future__ import annotations

from fastapi import APIRouter, Query

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.operations import MarkReadIn, NotificationOut, UnreadOut

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", response_model=list[NotificationOut])
def list_notifications(ctx: Ctx, subject: CurrentSubject, unread: bool = False,
                       limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[NotificationOut]:
    rows = engine.list_notifications(ctx, subject, unread_only=unread, limit=limit, offset=offset)
    return [NotificationOut.model_validate(r) for r in rows]


@router.get("/unread-count", response_model=UnreadOut)
def unread_count(ctx: Ctx, subject: CurrentSubject) -> UnreadOut:
    return UnreadOut(unread=engine.unread_count(ctx, subject))


@router.post("/read", response_model=UnreadOut)
def mark_read(body: MarkReadIn, ctx: Ctx, subject: CurrentSubject) -> UnreadOut:
    engine.mark_read(ctx, subject, body.ids)
    return UnreadOut(unread=engine.unread_count(ctx, subject))
