"""Admin pages with the real authenticator and demo users: who may open what, actions with reasons."""
from __future__ import annotations

import re

from tests.pages.test_account_pages import csrf_of, page_login


def test_staff_get_403_pages_on_admin_pages(web):
    page_login(web, "zhangwei")
    for path in ("/admin/users", "/admin/audit", "/admin/security", "/admin/incidents"):
        r = web.get(path)
        assert r.status_code == 403 and "<h1>" in r.text, path


def test_audit_log_only_for_audit_admin_with_chain_status(web):
    page_login(web, "xitong_admin")
    assert web.get("/admin/audit").status_code == 403
    web.cookies.clear()
    page_login(web, "shenji_admin")
    r = web.get("/admin/audit")
    assert r.status_code == 200 and 'id="chain-status"' in r.text and "alert-success" in r.text
    assert 'href="/admin/audit"' in r.text  # the nav link


def test_security_admin_unlocks_and_views_settings(web):
    for _ in range(5):
        page_login(web, "chenjing", password="wrong-password")
    page_login(web, "anquan_admin")
    assert web.get("/admin/security").status_code == 200
    users = web.get("/admin/users?q=chenjing")
    assert users.status_code == 200 and "chenjing" in users.text
    user_id = re.search(r'action="/admin/users/([^/]+)/unlock"', users.text).group(1)
    csrf = csrf_of(users.text)
    assert web.post(f"/admin/users/{user_id}/unlock", data={"csrf_token": csrf, "reason": ""}).status_code == 422
    ok = web.post(f"/admin/users/{user_id}/unlock", data={"csrf_token": csrf, "reason": "本人电话确认"})
    assert ok.status_code == 303
    web.cookies.clear()
    assert page_login(web, "chenjing").status_code == 303


def test_sys_admin_assigns_and_revokes_a_role_with_reason(web):
    page_login(web, "xitong_admin")
    page = web.get("/admin/users")
    assert page.status_code == 200 and 'id="role-form"' in page.text
    csrf = csrf_of(page.text)
    body = {"csrf_token": csrf, "username": "chenjing", "role": "records_head", "institution": "rmyy_main"}
    assert web.post("/admin/roles/assign", data={**body, "reason": ""}).status_code == 422
    assert web.post("/admin/roles/assign", data={**body, "reason": "岗位调整"}).status_code == 303
    assert web.post("/admin/roles/revoke", data={**body, "reason": "岗位调整"}).status_code == 303
    assert web.post("/admin/roles/assign", data={k: v for k, v in body.items() if k != "csrf_token"}
                    | {"reason": "岗位调整"}).status_code == 403


def test_security_admin_changes_the_lockout_policy_on_the_page(web):
    page_login(web, "anquan_admin")
    page = web.get("/admin/security")
    assert 'id="security-form"' in page.text and 'id="s-lockout_failures"' in page.text and "取值 3–10" in page.text
    csrf = csrf_of(page.text)
    form = {**{m[0]: m[1] for m in re.findall(r'name="(\w+)" type="number"[^>]* value="(\d+)"', page.text)},
            "csrf_token": csrf}
    bad = web.post("/admin/security", data={**form, "lockout_failures": "50", "reason": "加强"})
    assert bad.status_code == 422 and 'id="s-lockout_failures-err"' in bad.text and 'value="50"' in bad.text
    ok = web.post("/admin/security", data={**form, "lockout_failures": "3", "reason": "等保整改"})
    assert ok.status_code == 303
    web.cookies.clear()
    for _ in range(3):
        page_login(web, "chenjing", password="wrong-password")
    assert page_login(web, "chenjing").status_code != 303  # locked after 3 failures now


def test_system_admin_may_neither_see_nor_change_the_policy(web):
    page_login(web, "xitong_admin")
    assert web.get("/admin/security").status_code == 403
    csrf = csrf_of(web.get("/admin/users").text)
    assert web.post("/admin/security", data={"csrf_token": csrf, "lockout_failures": "3",
                                             "reason": "越权"}).status_code == 403
