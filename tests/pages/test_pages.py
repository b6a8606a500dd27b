"""Staff pages through the app: inbox, task form round trip, start, instance, statistics, security."""
from __future__ import annotations

import re
from pathlib import Path

from tests.pages.conftest import LEAVE, as_user

ROOT = Path(__file__).resolve().parents[2]


def _start_leave(client, **changes):
    response = client.post("/start/leave_request", data={**LEAVE, **changes}, headers=as_user("nurse_li"))
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _first_task(client, user):
    page = client.get("/inbox", headers=as_user(user)).text
    return re.search(r'href="/tasks/([0-9a-f-]{36})"', page).group(1)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/inbox?tab=done")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Finbox%3Ftab%3Ddone"


def test_inbox_lists_claimable_task_with_columns_and_badge(client):
    _start_leave(client)
    page = client.get("/inbox", headers=as_user("dr_wang"))
    assert page.status_code == 200
    for text in ("李护士 请假 2天", "请假审批", "科主任审批", "nurse_li", "h1", "待办"):
        assert text in page.text
    assert '<span class="badge" aria-label="1 条待办">1</span>' in page.text
    assert "暂无待办" in client.get("/inbox", headers=as_user("med_zhao")).text
    mine = client.get("/inbox?tab=mine", headers=as_user("nurse_li")).text
    assert "李护士 请假 2天" in mine and "/instances/" in mine
    assert "共 0 条" in client.get("/inbox?q=nothing-matches", headers=as_user("dr_wang")).text


def test_start_form_errors_keep_input_then_start(client):
    response = client.post("/start/leave_request", data={**LEAVE, "days": "abc", "reason": ""},
                           headers=as_user("nurse_li"))
    assert response.status_code == 422
    assert 'id="err-days"' in response.text and 'id="err-reason"' in response.text
    assert 'value="abc"' in response.text and 'value="李护士"' in response.text
    location = _start_leave(client)
    assert location.startswith("/instances/")
    assert client.get(location, headers=as_user("nurse_li")).status_code == 200


def test_start_page_lists_only_startable_processes(client):
    nurse = client.get("/start", headers=as_user("nurse_li")).text
    assert "请假审批" in nurse and "手术申请审批" not in nurse
    assert client.get("/start/surgery_application", headers=as_user("nurse_li")).status_code == 403


def test_task_round_trip_errors_then_next_step_for_next_user(client):
    _start_leave(client, days="20")  # >15 days: department head, then medical affairs
    task_id = _first_task(client, "dr_wang")
    page = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    assert 'name="outcome" value="approve"' in page and 'id="f-applicant_name"' in page
    assert re.search(r'id="f-applicant_name"[^>]*disabled', page)
    rejected = client.post(f"/tasks/{task_id}", data={"outcome": "reject", "comment": ""},
                           headers=as_user("dr_wang"))
    assert rejected.status_code == 422 and 'id="err-comment"' in rejected.text
    assert re.search(r'value="reject" checked', rejected.text)
    done = client.post(f"/tasks/{task_id}", data={"outcome": "approve", "comment": "同意",
                                                  "applicant_name": "篡改"}, headers=as_user("dr_wang"))
    assert done.status_code == 303 and done.headers["location"] == "/inbox?tab=todo&flash=completed"
    assert "医务处审批" in client.get("/inbox", headers=as_user("med_zhao")).text
    assert "已提交" in client.get(done.headers["location"], headers=as_user("dr_wang")).text
    history = client.get("/inbox?tab=done", headers=as_user("dr_wang")).text
    assert "李护士 请假 20天" in history and "同意" in history


def test_task_page_shows_no_actions_to_readers_and_refuses_outsiders(client):
    _start_leave(client)
    task_id = _first_task(client, "dr_wang")
    reader = client.get(f"/tasks/{task_id}", headers=as_user("nurse_li")).text  # the initiator may read
    assert "当前无权办理" in reader and 'name="_outcome"' not in reader and "/op/transfer" not in reader
    assert client.get(f"/tasks/{task_id}", headers=as_user("outsider")).status_code == 403
    refused = client.post(f"/tasks/{task_id}", data={"outcome": "approve"}, headers=as_user("nurse_li"))
    assert refused.status_code == 403


def test_instance_page_diagram_and_timeline(client):
    location = _start_leave(client)
    instance_id = location.split("/")[2].split("?")[0]
    page = client.get(f"/instances/{instance_id}", headers=as_user("nurse_li")).text
    assert 'data-xml-url="/instances/' in page and "&#34;dept_head_review&#34;: &#34;current&#34;" in page
    assert "发起流程" in page and "角色：dept_head" in page
    xml = client.get(f"/instances/{instance_id}/diagram.bpmn", headers=as_user("nurse_li"))
    assert xml.headers["content-type"].startswith("application/xml") and "<bpmn:process" in xml.text
    assert client.get(f"/instances/{instance_id}", headers=as_user("outsider")).status_code == 403
    assert client.get(f"/instances/{instance_id}/diagram.bpmn", headers=as_user("outsider")).status_code == 403


def test_statistics_page_and_csv(client):
    _start_leave(client)
    page = client.get("/stats", headers=as_user("dr_wang")).text
    assert 'data-charts="' in page and "请假审批" in page
    csv = client.get("/stats.csv", headers=as_user("dr_wang"))
    assert csv.headers["content-type"].startswith("text/csv")
    assert "process,leave_request,running,1" in csv.text


def test_language_switch_sets_a_cookie_and_only_redirects_locally(client):
    response = client.get("/lang/en?next=/inbox?tab=done", headers=as_user("dr_wang"))
    assert response.status_code == 303 and response.headers["location"] == "/inbox?tab=done"
    assert "lang=en" in response.headers["set-cookie"]
    assert client.get("/lang/en?next=//evil.example").headers["location"] == "/inbox"
    english = client.get("/inbox", headers={**as_user("dr_wang"), "cookie": "lang=en"}).text
    assert "To do" in english and '<html lang="en">' in english
    assert '<html lang="en">' in client.get("/inbox", headers={**as_user("dr_wang"),
                                                                "accept-language": "en-US,en;q=0.9"}).text
    client.cookies.clear()  # the switch above left lang=en in the client's cookie jar
    assert '<html lang="zh-CN">' in client.get("/inbox", headers=as_user("dr_wang")).text


def test_script_in_titles_and_values_is_escaped(client):
    _start_leave(client, applicant_name="<script>alert('x')</script>", reason="<img src=x onerror=alert(1)>")
    for path_user in (("/inbox", "dr_wang"), ("/inbox?tab=mine", "nurse_li")):
        html = client.get(path_user[0], headers=as_user(path_user[1])).text
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    task_id = _first_task(client, "dr_wang")
    html = client.get(f"/tasks/{task_id}", headers=as_user("dr_wang")).text
    assert "<script>alert" not in html and "<img src=x" not in html


def test_every_post_form_carries_the_csrf_token_and_pages_have_no_inline_script(client):
    _start_leave(client)
    task_id = _first_task(client, "dr_wang")
    for path in ("/inbox", f"/tasks/{task_id}", "/start/leave_request"):
        html = client.get(path, headers=as_user("dr_wang" if "tasks" in path else "nurse_li")).text
        posts = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
        assert posts, path
        for body in posts:
            assert re.search(r'<input type="hidden" name="csrf_token" value="csrf-\w+">', body), path
    for template in (ROOT / "api" / "templates").rglob("*.html"):
        text = template.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_security_headers_and_strict_csp_on_pages(client):
    response = client.get("/inbox", headers=as_user("dr_wang"))
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src" not in csp.replace("default-src", "")
    assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/static/css/app.css").status_code == 200
