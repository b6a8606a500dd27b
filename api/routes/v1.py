"""External API v1 (/api/v1): signed requests only, per-client Casbin permissions, stable error JSON.

A signed client is the subject ``client:<key_id>``; rules such as
``p, client:his-01, rmyy_main, process:refund, start`` and ``p, client:his-01, *, message:payment_result, send``
decide what it may do; refusals are 403 and audited as ``access.denied``.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.v1 import (
    ERRORS,
    AnnouncementIn,
    CancelV1,
    DeliveryV1,
    HistoryOut,
    InstanceList,
    InstanceV1,
    MessageV1,
    StartV1,
    StepOut,
    TodoOut,
    WebhookIn,
    WebhookOut,
)
from engine import (
    InstanceView,
    announcements_for,
    authorizer,
    cancel_instance,
    create_announcement,
    find_by_idempotency_key,
    policy_allows,
    portal_todos,
)
from engine import require_permission as require
from engine.errors import AuthenticationFailed, NotFound

router = APIRouter(prefix="/api/v1", responses=ERRORS)
CLIENT = "client:"


def _client(subject: engine.Subject) -> engine.Subject:
    """v1 is for signed external systems; a browser session is refused like a missing signature."""
    if not subject.username.startswith(CLIENT):
        raise AuthenticationFailed("需要签名请求 (signed request required)", reason="signature_required")
    return subject


def _v1(view: InstanceView) -> InstanceV1:
    return InstanceV1(
        id=view.id, process_key=view.process_key, version=view.definition_version, business_key=view.business_key,
        institution=view.institution, initiator=view.initiator, title=view.title, state=view.status,
        created_at=view.created_at, ended_at=view.ended_at,
        current_steps=[StepOut(task_id=t.id, step=t.node_id, name=t.name, candidate_roles=t.candidate_roles,
                               assignee=t.assignee, since=t.created_at, due_at=t.due_at) for t in view.open_tasks],
        history=[HistoryOut(step=t.node_id, name=t.name, outcome=t.outcome, completed_by=t.completed_by,
                            completed_at=t.completed_at, state=t.state) for t in view.history],
    )


def _readable(ctx: engine.EngineContext, subject: engine.Subject, view: InstanceView) -> None:
    """A client sees instances it started, or of processes it may start in that institution."""
    if view.initiator.startswith(subject.username):
        return
    require(ctx, subject, view.institution, f"process:{view.process_key}", "start",
            command="read_instance", instance_id=view.id)


@router.post("/processes/{key}/instances", response_model=InstanceV1, status_code=201, tags=["v1 instances"],
             responses={200: {"model": InstanceV1, "description": "idempotent replay: the existing instance"}})
def start_process(key: str, body: StartV1, ctx: Ctx, subject: CurrentSubject, response: Response,
                  idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
                  ) -> InstanceV1:
    """Start process `key`. The same idempotency key (header or body) twice returns the same instance
    (201 the first time, 200 afterwards)."""
    client = _client(subject)
    require(ctx, client, body.institution, f"process:{key}", "start", command="start_instance")
    idem = idempotency_key or body.idempotency_key
    initiator = client.username + (f"/{body.initiator_ref}" if body.initiator_ref else "")
    if idem:
        found = find_by_idempotency_key(ctx, key, idem)
        if found is not None:
            response.status_code = 200
            return _v1(engine.get_instance(ctx, found.id))
    view = engine.start_instance(ctx, key, initiator=initiator, institution=body.institution,
                                 business_key=body.business_key, data=body.payload, idempotency_key=idem)
    return _v1(view)


@router.post("/messages/{name}", response_model=DeliveryV1, status_code=202, tags=["v1 messages"])
def send_message(name: str, body: MessageV1, ctx: Ctx, subject: CurrentSubject) -> DeliveryV1:
    """Deliver a message (payment_result, his_settlement_result, patient_downloaded, bed_available …) by
    name and correlation key. The same `delivery_id` twice has one effect (`duplicate: true`)."""
    client = _client(subject)
    require(ctx, client, body.institution or "*", f"message:{name}", "send", command="deliver_message")
    idem = f"{client.username}:{body.delivery_id}" if body.delivery_id else None
    result = engine.deliver_message(ctx, name, correlation_key=body.correlation_key, payload=body.payload,
                                    idempotency_key=idem, ttl_seconds=body.ttl_seconds, sender=client.username,
                                    institution=body.institution)
    return DeliveryV1(message_id=result.message_id, status=result.status, instance_ids=result.instance_ids,
                      duplicate=result.duplicate)


@router.get("/instances/{instance_id}", response_model=InstanceV1, tags=["v1 instances"])
def read_instance(instance_id: str, ctx: Ctx, subject: CurrentSubject) -> InstanceV1:
    """State, current steps and history summary of one instance."""
    client = _client(subject)
    view = engine.get_instance(ctx, instance_id)
    _readable(ctx, client, view)
    return _v1(view)


@router.get("/instances", response_model=InstanceList, tags=["v1 instances"])
def list_instances(ctx: Ctx, subject: CurrentSubject,
                   business_key: Annotated[str, Query(min_length=1, max_length=200)],
                   process_key: Annotated[str | None, Query(max_length=100)] = None) -> InstanceList:
    """Instances with this business key (only those the client may read)."""
    client = _client(subject)
    authz = authorizer(ctx)
    items = []
    for view in engine.find_instances(ctx, business_key=business_key, process_key=process_key):
        if not (view.initiator.startswith(client.username)
                or policy_allows(authz, client, view.institution, f"process:{view.process_key}", "start")):
            continue
        items.append(_v1(engine.get_instance(ctx, view.id)))
    return InstanceList(items=items)


@router.post("/instances/{instance_id}/cancel", response_model=InstanceV1, tags=["v1 instances"])
def cancel(instance_id: str, body: CancelV1, ctx: Ctx, subject: CurrentSubject) -> InstanceV1:
    """Cancel with a reason: open tasks and pending jobs are cancelled, audited as `instance.cancel`."""
    client = _client(subject)
    view = engine.get_instance(ctx, instance_id)
    _readable(ctx, client, view)
    return _v1(cancel_instance(ctx, instance_id, actor=client.username, reason=body.reason))


# ---- webhook subscriptions (engine/webhooks.py); Casbin: p, client:<key>, *, webhook, manage ----

def _webhooks(ctx: engine.EngineContext, subject: engine.Subject) -> engine.Subject:
    client = _client(subject)
    require(ctx, client, "*", "webhook", "manage", command="webhooks")
    return client


@router.post("/webhooks", response_model=WebhookOut, status_code=201, tags=["v1 webhooks"])
def subscribe(body: WebhookIn, ctx: Ctx, subject: CurrentSubject) -> WebhookOut:
    """Subscribe a URL to events; the HMAC secret is returned once. See README for payload examples."""
    client = _webhooks(ctx, subject)
    view = engine.create_webhook(ctx, body.url, body.events, actor=client.username,
                                 description=f"[{client.username}] {body.description}".strip())
    return WebhookOut(id=view.id, url=view.url, events=view.events, description=view.description,
                      active=view.active, secret=view.secret)


def _own(ctx: engine.EngineContext, client: engine.Subject) -> list:
    return [w for w in engine.list_webhooks(ctx) if w.description.startswith(f"[{client.username}]")]


@router.get("/webhooks", response_model=list[WebhookOut], tags=["v1 webhooks"])
def subscriptions(ctx: Ctx, subject: CurrentSubject) -> list[WebhookOut]:
    client = _webhooks(ctx, subject)
    return [WebhookOut(id=w.id, url=w.url, events=w.events, description=w.description, active=w.active)
            for w in _own(ctx, client)]


@router.delete("/webhooks/{webhook_id}", status_code=204, tags=["v1 webhooks"])
def unsubscribe(webhook_id: str, ctx: Ctx, subject: CurrentSubject) -> Response:
    client = _webhooks(ctx, subject)
    if webhook_id not in {w.id for w in _own(ctx, client)}:
        raise NotFound("订阅不存在 (subscription not found)", webhook_id=webhook_id)
    engine.delete_webhook(ctx, webhook_id, actor=client.username)
    return Response(status_code=204)


# ---- portal interface (seed 004); Casbin: p, client:<key>, *, portal, read ----

def _portal(ctx: engine.EngineContext, subject: engine.Subject) -> None:
    require(ctx, _client(subject), "*", "portal", "read", command="portal")


@router.get("/portal/todos", response_model=list[TodoOut], tags=["v1 portal"])
def todos(ctx: Ctx, subject: CurrentSubject,
          employee_no: Annotated[str, Query(min_length=1, max_length=32)]) -> list[TodoOut]:
    """Pending todos of one employee; `link` is the SSO deep link (the portal inserts its token)."""
    _portal(ctx, subject)
    return [TodoOut(**t.to_dict()) for t in portal_todos(ctx, employee_no)]


@router.get("/portal/announcements", response_model=list[engine.AnnouncementView], tags=["v1 portal"])
def announcements(ctx: Ctx, subject: CurrentSubject,
                  employee_no: Annotated[str, Query(min_length=1, max_length=32)]) -> list[engine.AnnouncementView]:
    """Announcements whose audience (institution, department, role) includes this employee."""
    _portal(ctx, subject)
    return announcements_for(ctx, employee_no)


admin = APIRouter(prefix="/api/admin", tags=["announcements"])


@admin.post("/announcements", response_model=engine.AnnouncementView, status_code=201)
def publish(body: AnnouncementIn, ctx: Ctx, subject: CurrentSubject) -> engine.AnnouncementView:
    """Publish an announcement (administrators)."""
    return create_announcement(ctx, subject, **body.model_dump())
