"""Institution and department pages: who may open them, create/edit/disable with a reason, audited."""
from __future__ import annotations

import re

import engine
from tests.engine.identity.conftest import audit_actions
from tests.pages.test_account_pages import csrf_of, page_login


def test_staff_and_audit_admin_are_refused_and_the_refusal_is_audited(web, demo_ctx):
    for who in ("zhangwei", "shenji_admin"):
        page_login(web, who)
        for path in ("/admin/institutions", "/admin/departments", "/admin/departments?institution=rmyy_main"):
            r = web.get(path)
            assert r.status_code == 403 and "<h1>" in r.text, (who, path)
        assert audit_actions(demo_ctx, who)[-1] == "access.denied"
        web.cookies.clear()


def test_sys_admin_creates_edits_and_disables_an_institution(web, demo_ctx):
    page_login(web, "xitong_admin")
    page = web.get("/admin/institutions")
    assert page.status_code == 200 and 'id="institution-form"' in page.text and "rmyy_main" in page.text
    assert '<select id="new-kind" name="kind"' in page.text and 'aria-current="page">机构' in page.text
    csrf = csrf_of(page.text)
    body = {"csrf_token": csrf, "code": "sq_north", "name": "城北社区卫生服务中心", "kind": "community",
            "parent_code": ""}
    missing = web.post("/admin/institutions", data={**body, "reason": ""})
    assert missing.status_code == 422 and 'id="new-reason-err"' in missing.text
    assert 'value="城北社区卫生服务中心"' in missing.text  # what was typed stays
    bad = web.post("/admin/institutions", data={**body, "code": "bad code!", "reason": "新建"})
    assert bad.status_code == 422 and 'id="new-code-err"' in bad.text
    ok = web.post("/admin/institutions", data={**body, "reason": "区卫健委批复"})
    assert ok.status_code == 303 and ok.headers["location"].endswith("flash=admin_institution_saved")
    assert web.post("/admin/institutions", data={**body, "reason": "再建"}).status_code == 409
    edit = {"csrf_token": csrf, "name": "城北社区中心", "kind": "community", "parent_code": "rmyy", "active": "0",
            "reason": "撤并"}
    assert web.post("/admin/institutions/sq_north", data=edit).status_code == 303
    [row] = [i for i in engine.list_institutions(demo_ctx, include_inactive=True) if i.code == "sq_north"]
    assert (row.name, row.parent_code, row.active) == ("城北社区中心", "rmyy", False)
    assert {"institution.created", "institution.updated"} <= set(audit_actions(demo_ctx, "xitong_admin"))


def test_security_admin_may_look_but_gets_no_forms(web):
    page_login(web, "anquan_admin")
    page = web.get("/admin/institutions")
    assert page.status_code == 200 and "rmyy_main" in page.text and 'id="institution-form"' not in page.text
    csrf = csrf_of(page.text)
    r = web.post("/admin/institutions", data={"csrf_token": csrf, "code": "x1", "name": "x", "kind": "hospital",
                                              "reason": "试试"})
    assert r.status_code == 403


def test_departments_of_one_institution_created_renamed_and_disabled(web, demo_ctx):
    page_login(web, "xitong_admin")
    page = web.get("/admin/departments?institution=zyy")
    assert page.status_code == 200 and 'id="department-form"' in page.text
    assert re.search(r'<option value="zyy" selected>', page.text)
    csrf = csrf_of(page.text)
    body = {"csrf_token": csrf, "institution": "zyy", "code": "zhenjiu", "name": "针灸科"}
    assert web.post("/admin/departments", data={**body, "reason": ""}).status_code == 422
    ok = web.post("/admin/departments", data={**body, "reason": "新设科室"})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/admin/departments?institution=zyy")
    listed = web.get(ok.headers["location"])
    assert "针灸科" in listed.text and "科室已保存" in listed.text
    row = listed.text.split('id="department-zhenjiu"')[1]
    dept_id = re.search(r'action="/admin/departments/([^"]+)"', row).group(1)
    edit = {"csrf_token": csrf, "institution": "zyy", "name": "针灸推拿科", "active": "0", "reason": "更名并停用"}
    assert web.post(f"/admin/departments/{dept_id}", data=edit).status_code == 303
    [row] = [d for d in engine.list_departments(demo_ctx, "zyy") if d.code == "zhenjiu"]
    assert (row.name, row.active) == ("针灸推拿科", False)


def test_pages_are_translated(web):
    page_login(web, "xitong_admin")
    page = web.get("/admin/institutions?lang=en")
    assert "Institutions" in page.text and "New institution" in page.text and "Community health centre" in page.text
