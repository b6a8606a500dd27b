"""The platform authenticator over HTTP: cookie flags, CSRF, signed requests, 401/403 reason codes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine.models import AuditRecord, User
from engine.security.signing import sign_request
from tests.engine.identity.conftest import PASSWORD, audit_actions, prepare


@pytest.fixture
def app_ctx(ctx):
    prepare(ctx)
    engine.load_demo_identity(ctx)
    return ctx


@pytest.fixture
def web(app_ctx):
    app = create_app(app_ctx, authenticate=PlatformAuthenticator())
    with TestClient(app, raise_server_exceptions=False, client=("10.8.1.2", 50000)) as c:
        yield c


def login(web, who="zhangwei", password=PASSWORD):
    r = web.post("/api/auth/login", json={"identifier": who, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]


def test_login_cookie_flags_and_me(web):
    r = web.post("/api/auth/login", json={"identifier": "E1001", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert "hwf_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # development; Secure is set in every other environment
    me = web.get("/api/auth/me").json()
    assert me["username"] == "zhangwei" and me["roles"] == {"rmyy_main": ["doctor", "staff"]}


def test_bad_login_is_401_with_code(web):
    r = web.post("/api/auth/login", json={"identifier": "zhangwei", "password": "nope"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials" and r.json()["captcha_required"]


def test_csrf_missing_and_invalid_are_403_and_audited(web, app_ctx):
    csrf = login(web)
    body = {"current_password": PASSWORD, "new_password": "Next#Pass2026x"}
    missing = web.post("/api/auth/password", json=body)
    assert missing.status_code == 403 and missing.json()["reason"] == "csrf_missing"
    invalid = web.post("/api/auth/password", json=body, headers={"X-CSRF-Token": "forged"})
    assert invalid.status_code == 403 and invalid.json()["reason"] == "csrf_invalid"
    assert audit_actions(app_ctx, "zhangwei")[-2:] == ["access.denied", "access.denied"]
    ok = web.post("/api/auth/password", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 204


def test_logout_then_session_expired(web):
    csrf = login(web)
    assert web.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    r = web.get("/api/auth/me")
    assert r.status_code == 401


def test_idle_session_is_401_session_expired(web, app_ctx, clock):
    login(web)
    clock.advance(minutes=16)
    r = web.get("/api/auth/me")
    assert r.status_code == 401 and r.json()["reason"] == "session_expired"


def test_audit_api_only_for_audit_admin(web, app_ctx):
    login(web, "xitong_admin")
    denied = web.get("/api/audit/records")
    assert denied.status_code == 403
    assert audit_actions(app_ctx, "xitong_admin")[-1] == "access.denied"
    login(web, "shenji_admin")
    assert web.get("/api/audit/records?limit=5").status_code == 200
    verify = web.get("/api/audit/verify").json()
    assert verify["ok"] is True
    methods = {
        m for r in web.app.routes if getattr(r, "path", "").startswith("/api/audit") for m in r.methods
    }
    assert methods <= {"GET", "HEAD"}


def test_admin_user_creation_reason_and_password_change_gate(web, app_ctx):
    csrf = login(web, "xitong_admin")
    h = {"X-CSRF-Token": csrf}
    body = {
        "username": "api_user",
        "employee_no": "E7100",
        "display_name": "接口用户",
        "institution_code": "zyy",
        "phone": "13900002222",
        "initial_password": "Api#User20260",
    }
    assert web.post("/api/admin/users", json=body, headers=h).status_code == 422  # no reason
    created = web.post("/api/admin/users", json={**body, "reason": "入职"}, headers=h)
    assert created.status_code == 201 and created.json()["phone"] == "139****2222"
    assert (
        web.post(
            "/api/admin/users/api_user/roles",
            json={"role": "doctor", "institution": "zyy", "reason": "入职"},
            headers=h,
        ).status_code
        == 201
    )
    login(web, "api_user", "Api#User20260")
    r = web.get("/api/admin/institutions")
    assert r.status_code == 403 and r.json()["reason"] == "password_change_required"
    assert web.get("/api/auth/me").json()["must_change_password"] is True


def test_csv_import_with_a_bad_row_imports_nothing(web, app_ctx):
    csrf = login(web, "xitong_admin")
    csv = (
        "username,employee_no,display_name,institution,roles\n"
        "good_one,E7201,好人,zyy,doctor\nbad one,E7202,坏行,zyy,doctor\n"
    ).encode()
    r = web.post(
        "/api/admin/users/import",
        files={"file": ("u.csv", csv, "text/csv")},
        data={"reason": "批量"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422 and any(f["pointer"] == "/rows/2/username" for f in r.json()["fields"])
    with app_ctx.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username == "good_one")) == 0


def _api_client(web):
    csrf = login(web, "anquan_admin")
    r = web.post(
        "/api/admin/api-clients",
        headers={"X-CSRF-Token": csrf},
        json={
            "key_id": "portal-01",
            "name": "统一门户",
            "allowed_networks": ["10.8.0.0/16"],
            "reason": "门户对接",
        },
    )
    assert r.status_code == 201, r.text
    web.cookies.clear()
    return r.json()["secret"]


def test_signed_request_over_http(web, app_ctx, clock):
    secret = _api_client(web)
    ts = int(clock.now().timestamp())
    headers = sign_request(
        secret, "GET", "/api/auth/me?x=1", b"", timestamp=ts, nonce="http-nonce-1", key_id="portal-01"
    )
    ok = web.get("/api/auth/me?x=1", headers=headers)
    assert ok.status_code == 200 and ok.json()["username"] == "client:portal-01"
    replay = web.get("/api/auth/me?x=1", headers=headers)
    assert replay.status_code == 401 and replay.json()["reason"] == "replayed_nonce"
    stale = sign_request(secret, "GET", "/api/auth/me", b"", timestamp=ts - 3600, key_id="portal-01")
    assert web.get("/api/auth/me", headers=stale).json()["reason"] == "stale_timestamp"
    with app_ctx.db.unit_of_work() as s:
        denied = s.scalars(select(AuditRecord).where(AuditRecord.action == "access.denied")).all()
    assert {d.reason for d in denied} >= {"replayed_nonce", "stale_timestamp"}


def test_signed_request_from_outside_the_allow_list(app_ctx, web, clock):
    secret = _api_client(web)
    other = TestClient(
        create_app(app_ctx, authenticate=PlatformAuthenticator()),
        raise_server_exceptions=False,
        client=("192.168.9.9", 1),
    )
    body = json.dumps({"a": 1}).encode()
    headers = sign_request(
        secret, "POST", "/api/auth/me", body, timestamp=int(clock.now().timestamp()), key_id="portal-01"
    )
    r = other.post("/api/auth/me", content=body, headers=headers)
    assert r.status_code == 401 and r.json()["reason"] == "ip_not_allowed"


@pytest.mark.commits
def test_real_connections_refresh_policy_without_self_deadlock(ctx):
    """Separate pooled connections (as in production): on SQLite each transaction holds the write lock,
    so a policy reload from inside a command would wait for itself. Policy changes between requests
    must still be picked up on the next request."""
    prepare(ctx)
    engine.load_demo_identity(ctx)
    with TestClient(
        create_app(ctx, authenticate=PlatformAuthenticator()),
        raise_server_exceptions=False,
        client=("10.8.1.2", 1),
    ) as web:
        csrf = login(web, "xitong_admin")
        r = web.post(
            "/api/admin/users/zhangwei/roles",
            json={"role": "expert", "institution": "zyy", "reason": "会诊"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201, r.text
        users = web.get("/api/admin/users?q=zhangwei")
        assert users.status_code == 200 and users.json()[0]["roles"]["zyy"] == ["expert"]
        web.cookies.clear()
        login(web, "zhangwei")
        assert "expert" in web.get("/api/auth/me").json()["roles"]["zyy"]
        web.cookies.clear()
        login(web, "shenji_admin")
        assert web.get("/api/audit/verify").json()["ok"] is True


def test_security_settings_patch_checks_ranges_and_applies(web):
    h = {"X-CSRF-Token": login(web, "anquan_admin")}
    too_long = web.patch("/api/admin/settings", json={"lockout_minutes": 60, "reason": "试试看"}, headers=h)
    assert too_long.status_code == 422
    r = web.patch("/api/admin/settings", json={"session_idle_minutes": 30, "reason": "门诊要求"}, headers=h)
    assert r.status_code == 200 and r.json()["session_idle_minutes"] == 30
    assert web.get("/api/admin/settings").json()["session_idle_minutes"] == 30
    web.cookies.clear()
    h = {"X-CSRF-Token": login(web, "xitong_admin")}
    refused = web.patch("/api/admin/settings", json={"lockout_failures": 4, "reason": "越权"}, headers=h)
    assert refused.status_code == 403


def test_after_a_failed_login_the_api_client_fetches_a_captcha_image_and_answers_it(web, app_ctx):
    from engine.models import LoginCaptcha

    assert web.post("/api/auth/login", json={"identifier": "zhangwei", "password": "nope"}).status_code == 401
    again = web.post("/api/auth/login", json={"identifier": "zhangwei", "password": PASSWORD})
    assert again.status_code == 401 and again.json()["code"] == "bad_captcha"
    challenge = web.post("/api/auth/captcha").json()
    image = web.get(challenge["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG") and image.headers["cache-control"] == "no-store"
    with app_ctx.db.unit_of_work() as session:
        answer = session.get(LoginCaptcha, challenge["captcha_id"]).answer
    ok = web.post("/api/auth/login", json={"identifier": "zhangwei", "password": PASSWORD,
                                           "captcha_id": challenge["captcha_id"], "captcha_answer": answer})
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    assert web.get(challenge["image_url"]).status_code == 404  # used up
