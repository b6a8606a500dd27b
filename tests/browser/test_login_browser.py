"""A real demo user signs in through the login form (PlatformAuthenticator) and completes a task."""
from __future__ import annotations

import pytest

from engine import DEMO_PASSWORD as PASSWORD
from engine.models import LoginCaptcha
from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser


def test_demo_user_logs_in_through_the_form_and_completes_a_task(browser, demo_app):
    demo_server, ctx = demo_app
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{demo_server}/inbox")
    assert "/login" in page.url
    page.get_by_label("用户名或工号").fill("liuqiang")
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    assert page.locator("#login-error").is_visible() and page.locator("#login-captcha").is_visible()
    image = page.locator("#captcha-image")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 160  # the PNG loaded (CSP allows it)
    page.screenshot(path=str(screenshot_dir() / "login-captcha-phone.png"), full_page=True)
    captcha_id = page.locator("input[name='captcha_id']").get_attribute("value")
    with ctx.db.unit_of_work() as session:  # what the person reads off the image
        answer = session.get(LoginCaptcha, captcha_id).answer
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("验证码（图片中的4个字符，不区分大小写）").fill(answer.lower())
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
