"""API-client page: security admins register clients (secret shown once), rotate, disable; others get 403."""
from __future__ import annotations

import re

from tests.engine.identity.conftest import audit_actions
from tests.pages.test_account_pages import csrf_of, page_login

CLIENT = {"key_id": "his-01", "name": "HIS 住院系统", "allowed_networks": "10.8.0.0/16\n10.9.1.5",
          "institution": "rmyy_main", "process_keys": ["leave_request"], "message_names": "payment_result"}


def _secret(html: str) -> str:
    return re.search(r'id="client-secret">[^<]*<code class="wrap">([^<]+)</code>', html).group(1)


def test_security_admin_registers_a_client_and_sees_the_secret_once(web, demo_ctx):
    page_login(web, "anquan_admin")
    page = web.get("/admin/api-clients")
    assert page.status_code == 200 and 'id="client-form"' in page.text
    assert '<select id="client-processes" name="process_keys" multiple' in page.text
    csrf = csrf_of(page.text)
    missing = web.post("/admin/api-clients", data={"csrf_token": csrf, **CLIENT, "allowed_networks": "not-an-ip",
                                                   "reason": "对接"})
    assert missing.status_code == 422 and 'id="client-networks-err"' in missing.text
    created = web.post("/admin/api-clients", data={"csrf_token": csrf, **CLIENT, "reason": "HIS 对接"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    first = _secret(created.text)
    assert len(first) > 30 and "client:his-01 rmyy_main process:leave_request start" in created.text
    again = web.get("/admin/api-clients")
    assert first not in again.text and 'id="client-secret"' not in again.text  # shown once only
    rotated = web.post("/admin/api-clients/his-01/rotate", data={"csrf_token": csrf, "reason": "定期更换"})
    assert rotated.status_code == 200 and _secret(rotated.text) != first
    assert web.post("/admin/api-clients/his-01/disable", data={"csrf_token": csrf, "reason": ""}).status_code == 422
    disabled = web.post("/admin/api-clients/his-01/disable", data={"csrf_token": csrf, "reason": "停用接口"})
    assert disabled.status_code == 303
    assert 'action="/admin/api-clients/his-01/enable"' in web.get(disabled.headers["location"]).text
    assert {"api_client.created", "api_client.rotated", "api_client.disabled"} <= \
        set(audit_actions(demo_ctx, "anquan_admin"))


def test_system_admin_and_staff_may_not_see_api_clients(web, demo_ctx):
    for who in ("xitong_admin", "zhangwei"):
        page_login(web, who)
        assert web.get("/admin/api-clients").status_code == 403
        assert audit_actions(demo_ctx, who)[-1] == "access.denied"
        web.cookies.clear()
