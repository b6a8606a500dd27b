"""Create-user and CSV-import pages: field errors in place, password policy, all-or-nothing import, 403s."""
from __future__ import annotations

import engine
from tests.engine.identity.conftest import audit_actions
from tests.pages.test_account_pages import csrf_of, page_login

NEW_USER = {"username": "lisi", "employee_no": "E9001", "display_name": "李四", "phone": "13812345678",
            "id_number": "11010519491231002X", "institution": "rmyy_main", "department": "nk",
            "initial_password": "Start#2026ward", "reason": "新入职"}
HEADER = "username,employee_no,display_name,institution,department,phone,id_number,roles,expires_at\n"


def _post_user(web, **changes):
    csrf = csrf_of(web.get("/admin/users/new").text)
    return web.post("/admin/users/new", data={"csrf_token": csrf, **NEW_USER, **changes})


def test_create_user_page_offers_institution_and_department_pickers(web):
    page_login(web, "xitong_admin")
    page = web.get("/admin/users/new")
    assert page.status_code == 200
    assert '<select id="u-institution" name="institution"' in page.text
    assert '<optgroup label="区中医院 (zyy)">' in page.text
    assert 'type="password"' in page.text and 'id="u-initial_password-hint"' in page.text


def test_weak_password_and_bad_fields_are_shown_next_to_the_fields(web, demo_ctx):
    page_login(web, "xitong_admin")
    weak = _post_user(web, initial_password="short")
    assert weak.status_code == 422 and 'id="u-initial_password-err"' in weak.text and "密码长度不足" in weak.text
    assert 'value="李四"' in weak.text and 'value="nk" selected' in weak.text  # the form keeps its values
    bad = _post_user(web, id_number="110105194912310021", employee_no="E 1")
    assert bad.status_code == 422 and 'id="u-id_number-err"' in bad.text and 'id="u-employee_no-err"' in bad.text
    assert _post_user(web, department="nope").status_code == 422
    assert _post_user(web, username="zhangwei").status_code == 409  # taken
    assert not engine.list_users(demo_ctx, _admin(demo_ctx), q="lisi")


def _admin(ctx):
    from tests.engine.identity.conftest import subject_of
    return subject_of(ctx, "xitong_admin")


def test_created_user_signs_in_and_must_change_the_password(web, demo_ctx):
    page_login(web, "xitong_admin")
    ok = _post_user(web)
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/users?q=lisi&flash=admin_user_created"
    listed = web.get(ok.headers["location"])
    assert "李四" in listed.text and "138****5678" in listed.text and "11010519491231002X" not in listed.text
    assert "user.created" in audit_actions(demo_ctx, "xitong_admin")
    web.cookies.clear()
    first = page_login(web, "E9001", password=NEW_USER["initial_password"])
    assert first.status_code == 303 and first.headers["location"].startswith("/password")


def test_csv_import_shows_line_numbers_and_imports_nothing_on_error(web, demo_ctx):
    page_login(web, "xitong_admin")
    page = web.get("/admin/users/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text and "employee_no" in page.text
    csrf = csrf_of(page.text)
    bad = (HEADER + "wangwu,E9101,王五,rmyy_main,nk,,,doctor,\n"
           "zhaoliu,E9101,赵六,rmyy_main,nope,,,no_such_role,\n")
    r = web.post("/admin/users/import", data={"csrf_token": csrf, "reason": "批量入职"},
                 files={"file": ("staff.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and 'id="import-errors"' in r.text
    for column in ("employee_no", "department", "roles"):  # the second data row is line 3 of the file
        assert f'<td>3</td><td class="mono">{column}</td>' in r.text, column
    assert "<td>2</td>" not in r.text and "1 行有错误" in r.text
    assert not engine.list_users(demo_ctx, _admin(demo_ctx), q="wangwu")  # all rows or none
    good = HEADER + "wangwu,E9101,王五,rmyy_main,nk,,,doctor,\nzhaoliu,E9102,赵六,zyy,,,,,\n"
    ok = web.post("/admin/users/import", data={"csrf_token": csrf, "reason": "批量入职"},
                  files={"file": ("staff.csv", good.encode(), "text/csv")})
    assert ok.status_code == 200 and 'id="import-result"' in ok.text and "wangwu, zhaoliu" in ok.text
    assert "user.import_rejected" in audit_actions(demo_ctx, "xitong_admin")
    not_utf8 = web.post("/admin/users/import", data={"csrf_token": csrf, "reason": "批量入职"},
                        files={"file": ("staff.csv", HEADER.encode() + "王".encode("gbk"), "text/csv")})
    assert not_utf8.status_code == 422 and 'id="import-file-err"' in not_utf8.text


def test_account_pages_refuse_non_admins_with_an_audited_403(web, demo_ctx):
    for who in ("zhangwei", "anquan_admin"):  # staff; the security admin may not create accounts (三员分立)
        page_login(web, who)
        for path in ("/admin/users/new", "/admin/users/import"):
            r = web.get(path)
            assert r.status_code == 403, (who, path)
        assert audit_actions(demo_ctx, who)[-1] == "access.denied"
        csrf = csrf_of(web.get("/inbox").text)
        assert web.post("/admin/users/new", data={"csrf_token": csrf, **NEW_USER}).status_code == 403
        web.cookies.clear()


def test_users_page_role_pickers_list_the_real_roles_and_institutions(web, demo_ctx):
    page_login(web, "xitong_admin")
    page = web.get("/admin/users?q=chenjing")
    assert '<select id="role-role" name="role"' in page.text and '<select id="role-institution"' in page.text
    for role in engine.known_roles(demo_ctx):
        assert f'<option value="{role}">' in page.text, role
    assert '<option value="*">全部机构</option>' in page.text and '<option value="zyy">' in page.text
    assert 'value="records_head">病案室主任 (records_head)' in page.text
    assert "Medical-records office head" in web.get("/admin/users?q=chenjing&lang=en").text
