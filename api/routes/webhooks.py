"""Webhook subscriptions (admin): external systems receive signed POSTs for platform events."""
from __future__ import annotations

from fastapi import APIRouter, Response

import engine
from api.deps import Ctx, CurrentSubject, allowed_somewhere
from api.schemas.background import WebhookIn, WebhookOut

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"],
                   dependencies=[allowed_somewhere("webhook", "admin")])


@router.post("", response_model=WebhookOut, status_code=201)
def create(body: WebhookIn, ctx: Ctx, subject: CurrentSubject) -> WebhookOut:
    """The response carries the signing secret; it is not shown again."""
    view = engine.create_webhook(ctx, body.url, body.events, actor=subject.username, secret=body.secret,
                                 description=body.description)
    return WebhookOut.model_validate(view, from_attributes=True)


@router.get("", response_model=list[WebhookOut])
def list_(ctx: Ctx, subject: CurrentSubject) -> list[WebhookOut]:
    return [WebhookOut.model_validate(v, from_attributes=True) for v in engine.list_webhooks(ctx)]


@router.delete("/{webhook_id}", status_code=204)
def delete(webhook_id: str, ctx: Ctx, subject: CurrentSubject) -> Response:
    engine.delete_webhook(ctx, webhook_id, actor=subject.username)
    return Response(status_code=204)
