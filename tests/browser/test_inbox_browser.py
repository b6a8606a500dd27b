"""The staff pages in Chromium against a real server: inbox, task form errors and completion, the next
user's inbox, the instance diagram, language switch, 375-px phones; saves docs/screenshots/."""
from __future__ import annotations

import pytest

from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser
SHOTS = screenshot_dir()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def test_apply_review_and_next_step_reaches_the_next_user(open_as):
    nurse = open_as("nurse_li")
    nurse.goto(nurse.url.replace("/inbox", "/start"))
    nurse.get_by_role("link", name="发起：请假审批").click()
    nurse.fill("#f-applicant_name", "孙护士")
    nurse.fill("#f-employee_no", "N777")
    nurse.fill("#f-department", "外科")
    nurse.select_option("#f-staff_type", "nurse")
    nurse.select_option("#f-leave_type", "annual")
    nurse.fill("#f-start_date", "2026-02-01")
    nurse.fill("#f-end_date", "2026-02-20")
    nurse.fill("#f-days", "二十")  # not a number: a field error, input kept
    nurse.fill("#f-reason", "探亲")
    nurse.get_by_role("button", name="+ 添加一行").click()
    nurse.fill('[name="handover[0][item]"]', "12床护理")
    nurse.get_by_role("button", name="提交申请").click()
    assert nurse.locator("#err-days").is_visible()
    assert nurse.input_value("#f-days") == "二十"
    assert nurse.locator("#err-handover-0-handover_to").is_visible()  # required cell in the table row
    nurse.fill("#f-days", "20")
    nurse.fill('[name="handover[0][handover_to]"]', "钱护士")
    nurse.get_by_role("button", name="提交申请").click()
    nurse.wait_for_url("**/instances/**")
    assert "孙护士 请假 20天" in nurse.locator("h1").inner_text()

    head = open_as("dr_wang")
    head.get_by_role("link", name="孙护士 请假 20天").click()
    head.get_by_label("不同意").check()
    head.get_by_role("button", name="提交").click()
    assert head.locator("#err-comment").is_visible()  # reject needs a reason
    assert head.get_by_label("不同意").is_checked()
    head.get_by_label("同意", exact=True).check()
    head.fill("#f-comment", "同意，注意交接")
    head.get_by_role("button", name="提交").click()
    head.wait_for_url("**/inbox?tab=todo&flash=completed")
    assert head.get_by_role("status").is_visible()

    medical = open_as("med_zhao")
    row = medical.locator("tr", has_text="孙护士 请假 20天")
    assert row.locator("td", has_text="医务处审批").count() == 1


def test_inbox_task_instance_stats_start_pages_and_screenshots(open_as):
    for width, suffix in ((1280, "desktop"), (375, "phone")):
        page = open_as("dr_wang", width=width)
        assert page.locator(".inbox-table tbody tr").count() >= 2
        _no_horizontal_scroll(page)
        _shot(page, f"inbox-{suffix}")
        page.locator("td.col-title a", has_text="陈护士").click()
        assert page.locator("h1").inner_text() == "科主任审批"
        assert page.locator("#f-applicant_name").is_disabled()
        _no_horizontal_scroll(page)
        _shot(page, f"task-{suffix}")
        page.get_by_role("link", name="查看流程图与流转记录").click()
        page.wait_for_selector("#diagram[data-rendered='true']")
        assert page.locator(".djs-element.hl-current, .djs-element.hl-overdue").count() == 1
        assert page.locator(".djs-element.hl-completed").count() >= 1  # start event, routing rule
        _no_horizontal_scroll(page)
        _shot(page, f"instance-{suffix}")
        page.goto(page.url.split("/instances")[0] + "/stats")
        page.wait_for_selector("body[data-charts-ready='true']")
        _no_horizontal_scroll(page)
        _shot(page, f"statistics-{suffix}")
        nurse = open_as("nurse_li", width=width)
        nurse.goto(nurse.url.replace("/inbox", "/start/leave_request"))
        _no_horizontal_scroll(nurse)
        _shot(nurse, f"start-{suffix}")


def test_overdue_instance_is_highlighted(open_as):
    page = open_as("nurse_li")
    page.goto(page.url + "?tab=mine")
    page.locator("td.col-title a", has_text="李护士").click()
    page.wait_for_selector("#diagram[data-rendered='true']")
    assert page.locator(".djs-element.hl-overdue").count() == 1  # its due date passed in the demo data


def test_language_switch_and_phone_menu(open_as):
    page = open_as("dr_wang", width=375)
    assert not page.locator("#main-nav").is_visible()
    page.get_by_role("button", name="菜单").click()
    assert page.get_by_role("link", name="发起流程").is_visible()
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Inbox"
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("link", name="中文").click()
    assert page.locator("h1").inner_text() == "工作台"


def test_keyboard_reaches_the_first_task(open_as):
    page = open_as("dr_wang")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('td.col-title') !== null"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks/**")
