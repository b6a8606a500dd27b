"""Sign-in pages with the real PlatformAuthenticator: login, lockout, forced change, TOTP, logout, CSRF."""
from __future__ import annotations

import base64
import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from api.auth import PlatformAuthenticator
from api.main import create_app
from engine.models import User
from engine.security import totp
from tests.engine.identity.conftest import PASSWORD


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)


def page_login(web, who="zhangwei", password=PASSWORD, next_="/inbox"):
    return web.post("/login", data={"identifier": who, "password": password, "next": next_})


def test_anonymous_is_sent_to_login_with_next_and_login_redirects_back(web):
    r = web.get("/inbox?tab=done")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    form = web.get(r.headers["location"])
    assert form.status_code == 200 and 'name="identifier"' in form.text and 'for="password"' in form.text
    assert 'name="next" value="/inbox?tab=done"' in form.text
    ok = page_login(web, "E1001", next_="/inbox?tab=done")
    assert ok.status_code == 303 and ok.headers["location"] == "/inbox?tab=done"
    assert "hwf_session=" in ok.headers["set-cookie"]
    inbox = web.get("/inbox")
    assert inbox.status_code == 200 and "张伟" in inbox.text and 'action="/logout"' in inbox.text


def test_next_only_follows_same_site_paths(web):
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        r = page_login(web, next_=bad)
        assert r.headers["location"] == "/inbox"
        web.cookies.clear()


def test_bad_credentials_do_not_say_which_part_and_ask_for_captcha(web):
    r = page_login(web, password="wrong-password")
    assert r.status_code == 401 and 'id="login-error"' in r.text and 'id="login-captcha"' in r.text
    unknown = page_login(web, who="nobody_here", password="wrong-password")
    assert unknown.status_code == 401
    message = re.search(r'id="login-error">\s*([^<]*)', r.text).group(1).strip()
    assert message == re.search(r'id="login-error">\s*([^<]*)', unknown.text).group(1).strip()


def test_lockout_shows_remaining_minutes(web):
    for _ in range(5):
        page_login(web, password="wrong-password")
    r = page_login(web)  # right password, but locked
    assert r.status_code == 401 and "分钟" in r.text and "锁定" in r.text
    en = web.post("/login?lang=en", data={"identifier": "zhangwei", "password": PASSWORD})
    assert "locked" in en.text and "minutes" in en.text


def test_expired_notice(web):
    r = web.get("/login?expired=1")
    assert 'id="login-expired"' in r.text
    web.cookies.set("hwf_session", "no-such-session")
    r = web.get("/inbox")
    assert r.headers["location"].startswith("/login?expired=1&next=")


def test_forced_password_change_then_inbox(web, demo_ctx):
    demo_ctx.db.run(lambda s: s.execute(update(User).where(User.username == "wangfang")
                                        .values(must_change_password=True)))
    r = page_login(web, "wangfang")
    assert r.headers["location"].startswith("/password?next=")
    blocked = web.get("/inbox")
    assert blocked.status_code == 303 and blocked.headers["location"].startswith("/password")
    page = web.get("/password")
    assert 'id="password-forced"' in page.text
    csrf = csrf_of(page.text)
    weak = web.post("/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                       "new_password": "short", "confirm_password": "short"})
    assert weak.status_code == 422 and "密码长度不足" in weak.text
    mismatch = web.post("/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                           "new_password": "Better#Pass2026", "confirm_password": "x"})
    assert "两次输入的新密码不一致" in mismatch.text
    ok = web.post("/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                     "new_password": "Better#Pass2026", "confirm_password": "Better#Pass2026",
                                     "next": "/inbox"})
    assert ok.status_code == 303 and ok.headers["location"] == "/inbox?flash=password_changed"
    assert web.get("/inbox").status_code == 200


def test_forms_need_csrf_and_logout_ends_session(web):
    page_login(web)
    refused = web.post("/logout")
    assert refused.status_code == 403
    csrf = csrf_of(web.get("/inbox").text)
    out = web.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    web.cookies.clear()
    assert web.get("/inbox").status_code == 303


def test_totp_enrolment_for_admin_outside_development(demo_ctx):
    key = base64.b64encode(b"k" * 32).decode()
    demo_ctx.settings = demo_ctx.settings.model_copy(update={"environment": "staging",
                                                             "secret_key": "x" * 40,
                                                             "field_encryption_key": key})
    app = create_app(demo_ctx, authenticate=PlatformAuthenticator())
    with TestClient(app, follow_redirects=False, base_url="https://testserver") as web:
        r = page_login(web, "shenji_admin")
        assert r.headers["location"].startswith("/login/totp/enroll")
        page = web.get(r.headers["location"])
        started = web.post("/login/totp/enroll", data={"csrf_token": csrf_of(page.text), "next": "/inbox"})
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)
        assert "otpauth://" in started.text
        code = totp.code_at(secret, totp.time_step(demo_ctx.clock.now()))
        done = web.post("/login/totp/confirm", data={"csrf_token": csrf_of(started.text), "totp_code": code,
                                                     "next": "/inbox"})
        assert done.status_code == 303 and done.headers["location"] == "/inbox"
        web.cookies.clear()
        again = page_login(web, "shenji_admin")
        assert again.status_code == 200 and 'name="totp_code"' in again.text
        wrong = web.post("/login", data={"identifier": "shenji_admin", "password": PASSWORD,
                                         "totp_code": "000000"})
        assert wrong.status_code == 401 and 'id="totp-error"' in wrong.text
