"""A system admin creates an institution, a department and a user in the browser; that user signs in."""
from __future__ import annotations

import pytest

from engine import DEMO_PASSWORD
from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser
NEW_PASSWORD = "Start#2026south"
CHANGED_PASSWORD = "Better#2026south"


def _sign_in(page, base: str, who: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名或工号").fill(who)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _submit(page, form: str, values: dict[str, str]) -> None:
    """Fill inputs (fill) and pickers (select_option) by CSS selector, then press the form's button."""
    for selector, value in values.items():
        field = page.locator(selector)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.locator(form).get_by_role("button").click()


def test_admin_creates_institution_department_and_user_who_then_signs_in(browser, demo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, demo_server, "xitong_admin", DEMO_PASSWORD)
    page.wait_for_url(f"{demo_server}/inbox")

    page.goto(f"{demo_server}/admin/institutions")
    _submit(page, "#institution-form", {"#new-code": "sq_south", "#new-name": "城南社区卫生服务中心",
                                        "#new-kind": "community", "#new-parent": "rmyy",
                                        "#new-reason": "区卫健委批复设立"})
    page.wait_for_url("**/admin/institutions?flash=admin_institution_saved")
    assert page.locator("#institution-sq_south").is_visible()
    page.screenshot(path=str(screenshot_dir() / "admin-institutions-desktop.png"), full_page=True)

    page.goto(f"{demo_server}/admin/departments?institution=sq_south")
    _submit(page, "#department-form", {"#new-dept-code": "qk", "#new-dept-name": "全科",
                                       "#new-dept-reason": "新机构开科"})
    page.wait_for_url("**/admin/departments?institution=sq_south&flash=admin_department_saved")
    assert page.locator("#department-qk").is_visible()

    page.goto(f"{demo_server}/admin/users/new")
    page.get_by_label("用户名").fill("nanfang")
    page.get_by_label("工号").fill("E6001")
    page.get_by_label("姓名").fill("南方")
    page.get_by_label("手机号").fill("13900001111")
    page.select_option("#u-institution", "sq_south")
    page.select_option("#u-department", "qk")
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    page.get_by_label("原因").fill("新入职")
    page.screenshot(path=str(screenshot_dir() / "admin-user-new-desktop.png"), full_page=True)
    page.get_by_role("button", name="创建").click()
    page.wait_for_url("**/admin/users?q=nanfang&flash=admin_user_created")
    assert page.locator("#user-table", has_text="南方").is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login?flash=logged_out")

    _sign_in(page, demo_server, "E6001", NEW_PASSWORD)  # by employee number; first sign-in forces a change
    page.wait_for_url("**/password?**")
    page.get_by_label("当前密码").fill(NEW_PASSWORD)
    page.get_by_label("新密码", exact=True).fill(CHANGED_PASSWORD)
    page.get_by_label("确认新密码").fill(CHANGED_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url("**/inbox**")
    assert page.locator(".user", has_text="南方").is_visible()
    context.close()
