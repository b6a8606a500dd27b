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


def _unread(ctx: Ctx, subject: CurrentSubject) -> UnreadOut:
    by_kind = engine.unread_counts(ctx, subject)
    return UnreadOut(unread=sum(by_kind.values()), by_kind=by_kind)


@router.get("/unread-count", response_model=UnreadOut)
def unread_count(ctx: Ctx, subject: CurrentSubject) -> UnreadOut:
    return _unread(ctx, subject)


@router.post("/read", response_model=UnreadOut)
def mark_read(body: MarkReadIn, ctx: Ctx, subject: CurrentSubject) -> UnreadOut:
    engine.mark_read(ctx, subject, body.ids)
    return _unread(ctx, subject)
