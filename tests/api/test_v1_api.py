"""External API v1 over HTTP with real HMAC signatures (PlatformAuthenticator), per-client Casbin rules."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine.models import AuditRecord
from engine.security.signing import sign_request
from tests.engine.identity.conftest import PASSWORD, prepare

ROOT = Path(__file__).resolve().parents[2]
KEY = "his-01"


@pytest.fixture
def v1ctx(ctx):
    prepare(ctx, forms_dir=ROOT / "forms", inline_worker=False)
    engine.load_demo_identity(ctx)
    engine.deploy_directory(ctx, ROOT / "processes" / "approvals", actor="loader")
    return ctx


@pytest.fixture
def web(v1ctx):
    with TestClient(create_app(v1ctx, authenticate=PlatformAuthenticator()), raise_server_exceptions=False,
                    client=("10.8.1.2", 50000)) as c:
        yield c


def login(web, who="anquan_admin"):
    r = web.post("/api/auth/login", json={"identifier": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


@pytest.fixture
def secret(web, v1ctx):
    csrf = login(web)
    r = web.post("/api/admin/api-clients", headers={"X-CSRF-Token": csrf}, json={
        "key_id": KEY, "name": "HIS", "allowed_networks": ["10.8.0.0/16"], "reason": "对接",
        "process_keys": ["guest_meal"], "message_names": ["payment_result"]})
    assert r.status_code == 201, r.text
    web.cookies.clear()
    return r.json()["secret"]


class Signed:
    def __init__(self, web, secret, clock):
        self.web, self.secret, self.clock, self.n = web, secret, clock, 0

    def __call__(self, method, path, body=None, headers=None):
        self.n += 1
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        signed = sign_request(self.secret, method, path, raw, timestamp=int(self.clock.now().timestamp()),
                              nonce=f"nonce-{self.n:06d}", key_id=KEY)
        return self.web.request(method, path, content=raw or None,
                                headers={**signed, "Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def api(web, secret, clock):
    return Signed(web, secret, clock)


MEAL = {"applicant_name": "赵主任", "department": "科教科", "meal_date": "2024-06-05", "meal_type": "lunch",
        "guest_count": 4, "standard_per_person": 150, "amount": 600, "reason": "专家评审",
        "guests": [{"name": "钱教授", "organization": "某大学医学院"}]}


def test_start_is_idempotent_and_readable(api):
    body = {"business_key": "GM-1", "institution": "rmyy_main", "initiator_ref": "u1", "payload": MEAL}
    first = api("POST", "/api/v1/processes/guest_meal/instances", body, {"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    again = api("POST", "/api/v1/processes/guest_meal/instances", body, {"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    iid = first.json()["id"]
    shown = api("GET", f"/api/v1/instances/{iid}")
    assert shown.status_code == 200 and shown.json()["state"] == "running"
    assert shown.json()["current_steps"], shown.json()
    listed = api("GET", "/api/v1/instances?business_key=GM-1")
    assert [i["id"] for i in listed.json()["items"]] == [iid]
    bad = api("POST", f"/api/v1/instances/{iid}/cancel", {"reason": ""})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    cancelled = api("POST", f"/api/v1/instances/{iid}/cancel", {"reason": "患者取消"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["current_steps"] == []
    twice = api("POST", f"/api/v1/instances/{iid}/cancel", {"reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"]


def test_forbidden_process_and_message_are_403_and_audited(api, v1ctx):
    r = api("POST", "/api/v1/processes/leave_request/instances", {"institution": "rmyy_main", "payload": {}})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    m = api("POST", "/api/v1/messages/patient_downloaded", {"correlation_key": "x"})
    assert m.status_code == 403
    with v1ctx.db.unit_of_work() as s:
        denied = s.scalars(select(AuditRecord).where(AuditRecord.action == "access.denied",
                                                     AuditRecord.actor == f"client:{KEY}")).all()
    assert len(denied) >= 2


def test_message_delivery_is_idempotent(api):
    body = {"correlation_key": "nobody-waits", "payload": {"status": "paid"}, "delivery_id": "d-1"}
    first = api("POST", "/api/v1/messages/payment_result", body)
    assert first.status_code == 202 and first.json()["status"] == "buffered" and not first.json()["duplicate"]
    again = api("POST", "/api/v1/messages/payment_result", body)
    assert again.json()["duplicate"] and again.json()["message_id"] == first.json()["message_id"]


def test_unsigned_and_session_requests_are_refused(web, secret):
    assert web.get("/api/v1/instances?business_key=x").status_code == 401
    login(web, "chenjing")
    r = web.get("/api/v1/instances?business_key=x")
    assert r.status_code == 401 and r.json()["code"]


def test_unknown_instance_is_404_with_stable_shape(api):
    r = api("GET", "/api/v1/instances/does-not-exist")
    assert r.status_code == 404
    assert {"error", "code", "message"} <= set(r.json())


def test_portal_todos_and_announcements(web, v1ctx, api, clock):
    r = api("GET", "/api/v1/portal/todos?employee_no=E1004")
    assert r.status_code == 403  # the client has no portal:read rule yet
    csrf = login(web)
    perm = web.post("/api/admin/announcements", headers={"X-CSRF-Token": csrf}, json={
        "title": "门诊系统升级通知", "department": "信息科", "link": "https://intranet/notice/1",
        "audience_roles": ["records_clerk"]})
    assert perm.status_code == 201, perm.text
    web.post("/api/admin/announcements", headers={"X-CSRF-Token": csrf}, json={
        "title": "仅财务", "audience_roles": ["finance_director_only"]})
    web.cookies.clear()
    with v1ctx.db.unit_of_work() as s:
        from engine.identity.policy import add_rules, bump_version
        add_rules(s, "p", [[f"client:{KEY}", "*", "portal", "read"]])
        bump_version(v1ctx, s)
    engine.authorizer(v1ctx, force=True)
    todos = api("GET", "/api/v1/portal/todos?employee_no=E1004")
    assert todos.status_code == 200 and isinstance(todos.json(), list)
    for t in todos.json():
        assert t["link"] == f"/api/auth/sso/open?next=/tasks/{t['task_id']}"
    notes = api("GET", "/api/v1/portal/announcements?employee_no=E1004")
    assert notes.status_code == 200 and [n["title"] for n in notes.json()] == ["门诊系统升级通知"]
    assert api("GET", "/api/v1/portal/todos?employee_no=NOPE").status_code == 404
