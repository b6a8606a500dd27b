"""A real demo user signs in through the login form (PlatformAuthenticator) and completes a task."""
from __future__ import annotations

from pathlib import Path

import pytest

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import FakeClock, Settings, deploy_directory, open_engine, start_instance
from engine.config import PROJECT_ROOT
from engine.migrate import upgrade
from tests.browser.server import ServerThread, free_port, leave
from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser
PASSWORD = "Demo@2026hosp"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("login-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    ctx = open_engine(Settings(database_url=url, var_dir=folder), clock=FakeClock())
    engine.load_demo_identity(ctx)
    deploy_directory(ctx, PROJECT_ROOT / "processes", actor="demo-loader")
    start_instance(ctx, "leave_request", initiator="wangfang", institution="rmyy_main",
                   data=leave("王芳", 2))
    port = free_port()
    thread = ServerThread(create_app(ctx, authenticate=PlatformAuthenticator()), port)
    thread.start()
    import time
    for _ in range(100):
        if thread.server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    thread.stop()
    ctx.db.engine.dispose()


def test_demo_user_logs_in_through_the_form_and_completes_a_task(browser, demo_server):
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{demo_server}/inbox")
    assert "/login" in page.url
    page.get_by_label("用户名或工号").fill("liuqiang")
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#login-error").is_visible() and page.locator("#login-captcha").is_visible()
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{demo_server}/inbox")
    page.screenshot(path=str(screenshot_dir() / "login-inbox-phone.png"), full_page=True)
    page.locator("a[href^='/tasks/']", has_text="王芳").first.click()
    page.get_by_role("button", name="同意").first.click() if page.locator("button[name='_outcome']").count() \
        else page.locator("input[name='outcome'][value='approve']").check()
    if page.locator("#f-comment").count():
        page.fill("#f-comment", "同意")
    if "/tasks/" in page.url:
        page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/inbox?tab=todo&flash=completed")
    assert page.locator(".alert-success").is_visible()
    page.get_by_role("button", name="菜单").click() if page.get_by_role("button", name="菜单").is_visible() else None
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login?flash=logged_out")
    context.close()
