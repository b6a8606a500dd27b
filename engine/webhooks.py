"""Webhooks: subscribers receive signed POSTs for platform events, retried through jobs.

Events: `instance.started`, `instance.completed`, `instance.cancelled`, `task.created`, `task.completed`,
`task.overdue`
and custom events published with `publish_event`. Each (subscription, event) is one `webhook` job
queued in the transaction of the change, so an event exists exactly when the change commits.

Signature: `X-HWF-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
`X-HWF-Timestamp` (unix seconds), `X-HWF-Event` and `X-HWF-Delivery` (job id, stable across retries).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.connectors.base import shared_client
from engine.context import EngineContext
from engine.errors import FieldError, NotFound, ValidationFailed
from engine.jobs.errors import JobError
from engine.jobs.queue import enqueue, job_handler
from engine.models import HumanTask, Instance, Job, WebhookSubscription
from engine.models import human_task as ht
from engine.models import instance as inst

log = logging.getLogger("engine.webhooks")
EVENTS = ("instance.started", "instance.completed", "instance.cancelled", "task.created", "task.completed",
          "task.overdue")


@dataclass(frozen=True)
class WebhookView:
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    secret: str | None = None  # only returned when created


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-HWF-Signature` value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Check a received webhook (for subscribers written in Python, and tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def create_webhook(ctx: EngineContext, url: str, events: list[str], *, actor: str, secret: str | None = None,
                   description: str = "") -> WebhookView:
    """Register a subscriber. The secret (generated when not given) is returned only here.

    Raises:
        ValidationFailed: URL not http(s) or no events.
    """
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed("地址无效 (invalid URL)", [FieldError("/url", "must be http(s)")])
    if not events:
        raise ValidationFailed("请选择事件 (no events)", [FieldError("/events", "at least one event")])
    secret = secret or secrets.token_hex(32)

    def command(session: Session) -> WebhookView:
        row = WebhookSubscription(url=url, events=list(events), secret=secret, description=description,
                                  created_by=actor, created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        audit.append(session, actor=actor, action="webhook.create", at=ctx.clock.now(),
                     details={"webhook_id": row.id, "url": url, "events": list(events)})
        return WebhookView(row.id, row.url, list(row.events), row.description, row.active, row.created_at, secret)

    return ctx.db.run(command)


def list_webhooks(ctx: EngineContext) -> list[WebhookView]:
    with ctx.db.unit_of_work() as session:
        rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at)).all()
        return [WebhookView(r.id, r.url, list(r.events), r.description, r.active, r.created_at) for r in rows]


def delete_webhook(ctx: EngineContext, webhook_id: str, *, actor: str) -> None:
    """Deactivate a subscription (kept for the audit trail). Raises NotFound."""
    def command(session: Session) -> None:
        row = session.get(WebhookSubscription, webhook_id)
        if row is None:
            raise NotFound("订阅不存在 (webhook not found)", webhook_id=webhook_id)
        row.active = False
        audit.append(session, actor=actor, action="webhook.delete", at=ctx.clock.now(),
                     details={"webhook_id": row.id, "url": row.url})

    ctx.db.run(command)


def _subscribers(session: Session, event: str) -> list[WebhookSubscription]:
    rows = session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))).all()
    return [r for r in rows if event in r.events or "*" in r.events]


def queue_event(ctx: EngineContext, session: Session, event: str, body: dict[str, Any], *, key: str) -> int:
    """Queue one delivery per subscriber of `event`; `key` makes the same event queue once."""
    subscribers = _subscribers(session, event)
    for sub in subscribers:
        document = {"event": event, "occurred_at": ctx.clock.now().isoformat(), **body}
        enqueue(session, "webhook", {"subscription_id": sub.id, "event": event, "body": document},
                run_at=ctx.clock.now(), instance_id=(body.get("instance") or {}).get("id"),
                dedupe_key=f"webhook:{sub.id}:{event}:{key}", max_attempts=ctx.settings.webhook_max_attempts)
    return len(subscribers)


def publish_event(ctx: EngineContext, event: str, body: dict[str, Any], *, key: str) -> int:
    """Publish a custom event to its subscribers (own transaction). Returns the number queued."""
    return ctx.db.run(lambda session: queue_event(ctx, session, event, body, key=key))


def _instance_doc(i: Instance) -> dict[str, Any]:
    return {"id": i.id, "process_key": i.process_key, "business_key": i.business_key, "status": i.status,
            "institution": i.institution, "title": i.title}


def _task_doc(t: HumanTask) -> dict[str, Any]:
    return {"id": t.id, "node_id": t.node_id, "name": t.name, "candidate_roles": list(t.candidate_roles or []),
            "assignee": t.assignee, "outcome": t.outcome, "completed_by": t.completed_by}


def queue_instance_events(ctx: EngineContext, session: Session, instance: Instance) -> None:
    """Queue webhook events for what this command changed on the instance (called from the hook, which
    first checks that an active subscription exists: engine/step_facts.py)."""
    doc = {"instance": _instance_doc(instance)}
    if instance.row_version == 1:
        queue_event(ctx, session, "instance.started", doc, key=instance.id)
    if instance.status == inst.COMPLETED:
        queue_event(ctx, session, "instance.completed", doc, key=instance.id)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, HumanTask) and obj.instance_id == instance.id:
            if obj.state == ht.OPEN:
                queue_event(ctx, session, "task.created", {**doc, "task": _task_doc(obj)}, key=obj.id)
            elif obj.state == ht.COMPLETED:
                queue_event(ctx, session, "task.completed", {**doc, "task": _task_doc(obj)}, key=obj.id)


def queue_instance_cancelled(ctx: EngineContext, session: Session, instance: Instance, *, actor: str, reason: str,
                             tasks: list[HumanTask]) -> None:
    """`instance.cancelled`, with who cancelled it, why, and the open tasks that went with it."""
    queue_event(ctx, session, "instance.cancelled",
                {"instance": _instance_doc(instance), "cancelled_by": actor, "reason": reason,
                 "cancelled_tasks": [_task_doc(t) for t in tasks]}, key=instance.id)


@job_handler("webhook")
def _deliver(ctx: EngineContext, job: Job) -> None:
    with ctx.db.unit_of_work() as session:
        sub = session.get(WebhookSubscription, job.payload["subscription_id"])
        if sub is None or not sub.active:
            return
        url, secret = sub.url, sub.secret
    body = json.dumps(job.payload["body"], ensure_ascii=False, separators=(",", ":"), default=str).encode()
    timestamp = str(int(ctx.clock.now().timestamp()))
    headers = {"Content-Type": "application/json", "X-HWF-Event": job.payload["event"], "X-HWF-Delivery": job.id,
               "X-HWF-Timestamp": timestamp, "X-HWF-Signature": sign(secret, timestamp, body)}
    try:
        response = shared_client(ctx.settings.webhook_timeout_seconds).post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise JobError(f"webhook {url}: {type(exc).__name__}", response={"error": str(exc)[:500]}) from None
    if response.status_code >= 300:
        raise JobError(f"webhook {url} 返回 {response.status_code}",
                       response={"status": response.status_code, "body": response.text[:2000]})
