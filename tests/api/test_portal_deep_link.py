"""A portal todo link opens the task: straight through with a session, via the auth centre without one."""
from __future__ import annotations

import httpx
import pytest

import engine
from tests.api.test_v1_api import login, web  # noqa: F401 - the shared app fixture
from tests.engine.identity.conftest import prepare
from tests.fakes import servers

SECRET = "portal-shared-secret"


@pytest.fixture
def centre(clock):
    # E1001 is zhangwei in the demo district
    system = servers.auth_centre(SECRET, "E1001", now=lambda: clock.now().timestamp()).start()
    yield system
    system.stop()


@pytest.fixture
def v1ctx(ctx, centre):
    from tests.api.test_v1_api import ROOT
    prepare(ctx, forms_dir=ROOT / "forms", inline_worker=False, sso_secret=SECRET,
            sso_login_url=centre.url + "/sso/login")
    engine.load_demo_identity(ctx)
    engine.deploy_directory(ctx, ROOT / "processes" / "approvals", actor="loader")
    return ctx


def test_without_a_session_the_link_goes_through_the_auth_centre_and_opens_the_page(web, centre):  # noqa: F811
    link = "/api/auth/sso/open?next=/inbox"
    first = web.get(link, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith(centre.url + "/sso/login?service=")
    back = httpx.get(first.headers["location"], follow_redirects=False)  # the real auth centre round trip
    assert back.status_code == 302
    callback = back.headers["location"].removeprefix(str(web.base_url))
    assert callback.startswith("/api/auth/sso?next=%2Finbox&token=")
    signed_in = web.get(callback, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/inbox"
    me = web.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "zhangwei"
    again = web.get(link, follow_redirects=False)  # signed in now: no detour
    assert again.status_code == 303 and again.headers["location"] == "/inbox"
    web.cookies.clear()
    replay = web.get(callback, follow_redirects=False)  # the token works once
    assert replay.status_code == 303 and replay.headers["location"] == "/login?sso=failed&next=%2Finbox"
    assert "hwf_session" not in replay.cookies
    page = web.get(replay.headers["location"])
    assert page.status_code == 200 and 'id="login-sso-failed"' in page.text


def test_links_never_leave_the_site(web):  # noqa: F811
    login(web)
    assert web.get("/api/auth/sso/open?next=//evil.example/x", follow_redirects=False).headers["location"] == "/"


def test_without_an_auth_centre_the_link_asks_for_the_password(ctx):
    from fastapi.testclient import TestClient

    from api.auth import PlatformAuthenticator
    from api.main import create_app
    prepare(ctx)
    with TestClient(create_app(ctx, authenticate=PlatformAuthenticator())) as client:
        r = client.get("/api/auth/sso/open?next=/tasks/abc", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ftasks%2Fabc"
