"""Messages, incidents and webhooks through the HTTP API."""
from __future__ import annotations

import dataclasses

from engine import run_due_jobs
from tests.api.conftest import as_user
from tests.background.conftest import DATA
from tests.conftest import sql


def _deploy(client, name):
    return client.app.state.ctx and __import__("engine").deploy(
        client.app.state.ctx, {name: (DATA / name).read_bytes()}, actor="admin")


def test_message_delivery_is_idempotent_over_http(client):
    _deploy(client, "bg_message_start.bpmn")
    body = {"correlation_key": "ORD-1", "payload": {"amount": 3, "institution": "h1"}, "idempotency_key": "k-1"}
    first = client.post("/api/messages/refund_requested", json=body, headers=as_user("alice"))
    again = client.post("/api/messages/refund_requested", json=body, headers=as_user("alice"))
    assert first.status_code == 202 and first.json()["status"] == "started"
    assert again.json()["duplicate"] is True and again.json()["instance_ids"] == first.json()["instance_ids"]
    assert client.post("/api/messages/refund_requested", json=body).status_code == 401


def test_incidents_need_admin_and_can_be_skipped(client, clock):
    ctx = client.app.state.ctx
    client.app.state.ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(
        update={"connector_urls": {"payment": "http://127.0.0.1:9"}, "connector_max_attempts": 1,
                "connector_timeout_seconds": 0.5}))
    ctx = client.app.state.ctx
    _deploy(client, "bg_connector.bpmn")
    started = client.post("/api/processes/bg_connector/instances", headers=as_user("alice"),
                          json={"institution": "h1", "data": {"order_id": "O-1", "amount": 1}})
    assert started.status_code == 201
    run_due_jobs(ctx, "w")
    assert client.get("/api/incidents", headers=as_user("alice")).status_code == 403
    denied = sql(ctx, "SELECT details FROM audit_log WHERE actor = 'alice' AND action = 'access.denied'")
    assert len(denied) == 1 and "incident.admin" in str(denied[0][0])  # decided by Casbin, audited once
    [incident] = client.get("/api/incidents", headers=as_user("admin")).json()
    assert incident["connector"] == "payment.refund" and incident["attempts"] == 1
    assert client.post(f"/api/incidents/{incident['id']}/skip", json={"reason": ""},
                       headers=as_user("admin")).status_code == 422
    skipped = client.post(f"/api/incidents/{incident['id']}/skip", json={"reason": "线下处理"},
                          headers=as_user("admin"))
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"
    assert client.post(f"/api/incidents/{incident['id']}/retry", json={},
                       headers=as_user("admin")).status_code == 409
    assert client.post("/api/incidents/retry", json={"connector": "payment.refund"},
                       headers=as_user("admin")).json() == {"retried": 0}


def test_webhook_subscription_crud(client):
    created = client.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["task.created"]},
                          headers=as_user("admin"))
    assert created.status_code == 201 and len(created.json()["secret"]) == 64
    listed = client.get("/api/webhooks", headers=as_user("admin")).json()
    assert [w["id"] for w in listed] == [created.json()["id"]] and listed[0]["secret"] is None
    assert client.delete(f"/api/webhooks/{created.json()['id']}", headers=as_user("admin")).status_code == 204
    assert client.get("/api/webhooks", headers=as_user("admin")).json()[0]["active"] is False
    assert client.post("/api/webhooks", json={"url": "ftp://x", "events": ["a"]},
                       headers=as_user("admin")).status_code == 422
    for path in ("/api/webhooks", "/api/messages"):  # staff: no webhook/message rule in the policy
        assert client.get(path, headers=as_user("alice")).status_code == 403
    assert client.get("/api/messages", headers=as_user("admin")).status_code == 200


def test_a_refused_user_gets_403_before_any_body_check(client):
    """The admin routes authorize first: a bad body from a refused user is 403, not 422 field messages."""
    for path, body in (("/api/webhooks", {"url": "ftp://x"}), ("/api/incidents/retry", {"ids": "not-a-list"}),
                       ("/api/incidents/x/skip", {})):
        assert client.post(path, json=body, headers=as_user("alice")).status_code == 403, path
    denied = sql(client.app.state.ctx, "SELECT count(*) FROM audit_log WHERE actor = 'alice' "
                                       "AND action = 'access.denied'")
    assert denied == [(3,)]
