"""/api/designer with the TEST authenticator: every endpoint, 403 for non-designers, 422 for bad XML."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import as_user, header_authenticator
from tests.conftest import sql
from tests.engine.designer.factories import bad_triage, triage
from tests.engine.designer.test_designer_engine import CAMUNDA

ADMIN = as_user("admin")
BASE = "/api/designer"
FORM = {
    "type": "object",
    "title": "分诊审核",
    "required": ["comment"],
    "properties": {
        "comment": {"type": "string", "title": "意见"},
        "level": {"type": "string", "enum": ["低", "高"]},
    },
}


ENDPOINTS = [
    ("GET", "/roles", None),
    ("GET", "/connectors", None),
    ("GET", "/forms", None),
    ("GET", "/forms/expense", None),
    ("PUT", "/forms/x", {"schema": FORM, "ui": {}}),
    ("POST", "/forms/preview", {"schema": FORM, "ui": {}}),
    ("GET", "/definitions", None),
    ("GET", "/definitions/triage/xml", None),
    ("GET", "/definitions/triage/instances?version=1", None),
    ("GET", "/drafts/triage", None),
    ("PUT", "/drafts/triage", {"xml": "<x/>"}),
    ("POST", "/import", {"xml": "<x/>"}),
    ("POST", "/validate", {"xml": "<x/>"}),
    ("POST", "/diff", {"xml": "<x/>"}),
    ("POST", "/deploy", {"xml": "<x/>", "comment": ""}),
    ("POST", "/dry-run", {"xml": "<x/>"}),
    ("POST", "/migrate", {"key": "triage", "from_version": 1, "instance_ids": [], "reason": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_non_designers_get_403_and_are_audited(client, ctx, method, path, body):
    r = client.request(method, BASE + path, json=body, headers=as_user("alice"))
    assert r.status_code == 403, r.text
    assert r.json()["detail"]
    rows = sql(ctx, "SELECT actor, details FROM audit_log WHERE action = 'designer.denied'")
    assert rows and rows[-1][0] == "alice"
    assert client.request(method, BASE + path, json=body).status_code == 401


def test_static_ui_is_for_designers_only(client, tmp_path):
    (tmp_path / "index.html").write_text(
        '<html><head><meta name="csrf-token" content=""></head></html>', "utf-8"
    )
    (tmp_path / "designer.js").write_text("console.log(1)", "utf-8")
    client.app.state.designer_dist = tmp_path
    assert client.get("/designer/", headers=as_user("alice")).status_code == 403
    page = client.get("/designer/", headers=ADMIN)
    assert page.status_code == 200 and 'name="csrf-token"' in page.text
    assert client.get("/designer/designer.js", headers=ADMIN).text == "console.log(1)"
    assert client.get("/designer/../pyproject.toml", headers=ADMIN).status_code == 404
    assert client.get("/designer/%2e%2e/%2e%2e/pyproject.toml", headers=ADMIN).status_code == 404
    assert client.get("/designer", headers=ADMIN, follow_redirects=False).status_code == 307


def test_csrf_token_from_request_state_is_injected(ctx, tmp_path):
    (tmp_path / "index.html").write_text('<meta name="csrf-token" content="">', "utf-8")

    def authenticate(request):  # stands in for the session middleware that issues the token
        request.state.csrf_token = 'tok"<en'
        return header_authenticator(request)

    with TestClient(create_app(ctx, authenticate=authenticate)) as c:
        c.app.state.designer_dist = tmp_path
        assert '<meta name="csrf-token" content="tok&quot;&lt;en">' in c.get("/designer/", headers=ADMIN).text


def test_catalogs_and_forms(client):
    roles = client.get(f"{BASE}/roles", headers=ADMIN).json()
    assert {"key": "dept_head", "title": "科室主任", "title_en": "Department head"} in roles
    assert any(
        c["topic"] == "his.check_archive" for c in client.get(f"{BASE}/connectors", headers=ADMIN).json()
    )
    assert {"key": "expense", "title": "费用申请", "source": "repository"} in client.get(
        f"{BASE}/forms", headers=ADMIN
    ).json()
    assert client.get(f"{BASE}/forms/expense", headers=ADMIN).json()["schema"]["title"] == "费用申请"
    assert client.get(f"{BASE}/forms/nope", headers=ADMIN).status_code == 404

    saved = client.put(
        f"{BASE}/forms/triage_review",
        json={"schema": FORM, "ui": {"comment": {"widget": "textarea"}}},
        headers=ADMIN,
    )
    assert saved.status_code == 200 and saved.json()["source"] == "draft"
    assert client.get(f"{BASE}/forms/triage_review", headers=ADMIN).json()["ui"] == {
        "comment": {"widget": "textarea"}
    }
    assert (
        client.put(f"{BASE}/forms/bad", json={"schema": {"type": "nope"}}, headers=ADMIN).status_code == 422
    )

    html = client.post(
        f"{BASE}/forms/preview",
        json={
            "schema": {**FORM, "title": "<b>x</b>"},
            "ui": {"comment": {"widget": "textarea", "help": "写清楚"}},
        },
        headers=ADMIN,
    ).json()["html"]
    assert "<textarea" in html and "意见" in html and "写清楚" in html and ">高</option>" in html
    assert "<b>x</b>" not in html  # never rendered raw (the inbox renderer shows field titles, not the form title)


def test_bad_xml_is_422_everywhere(client):
    for path in ("/validate", "/diff", "/deploy", "/dry-run", "/import"):
        r = client.post(BASE + path, json={"xml": "<bpmn:definitions xmlns:bpmn='x'><oops"}, headers=ADMIN)
        assert r.status_code == 422, path
        assert r.json()["diagnostics"][0]["rule"] == "xml"
    assert client.put(f"{BASE}/drafts/triage", json={"xml": "<oops"}, headers=ADMIN).status_code == 422


def test_validate_deploy_diff_definitions_and_drafts(client):
    diags = client.post(f"{BASE}/validate", json={"xml": bad_triage()}, headers=ADMIN).json()["diagnostics"]
    assert {(d["element_id"], d["rule"]) for d in diags} >= {
        ("dept_review", "user-task-form"),
        ("dept_review", "user-task-candidates"),
    }
    assert all(set(d) >= {"element_id", "line", "message", "severity", "rule"} for d in diags)
    refused = client.post(f"{BASE}/deploy", json={"xml": bad_triage(), "comment": "x"}, headers=ADMIN)
    assert refused.status_code == 422 and refused.json()["detail"] and refused.json()["diagnostics"]

    assert client.put(f"{BASE}/drafts/triage", json={"xml": triage()}, headers=ADMIN).status_code == 200
    assert client.get(f"{BASE}/drafts/triage", headers=ADMIN).json()["xml"] == triage()
    assert client.get(f"{BASE}/definitions", headers=ADMIN).json()[0]["version"] == 0
    assert client.get(f"{BASE}/definitions/triage/xml", headers=ADMIN).json()["draft"] is True

    first = client.post(f"{BASE}/deploy", json={"xml": triage(), "comment": "首版"}, headers=ADMIN)
    assert first.status_code == 201 and first.json()["version"] == 1
    changed = triage(
        'camunda:candidateGroups="dept_head" camunda:formKey="expense_review" hospital:sla="P1D"'
    )
    d = client.post(f"{BASE}/diff", json={"xml": changed}, headers=ADMIN).json()
    assert d["against_version"] == 1 and d["changed"] == [{"id": "dept_review", "fields": ["hospital:sla"]}]
    assert (
        client.post(f"{BASE}/deploy", json={"xml": changed, "comment": "SLA"}, headers=ADMIN).json()[
            "version"
        ]
        == 2
    )
    listed = [(v["key"], v["version"]) for v in client.get(f"{BASE}/definitions", headers=ADMIN).json()]
    assert listed == [("triage", 1), ("triage", 2)]  # deploying exactly the saved draft removed it
    assert client.get(f"{BASE}/definitions/triage/xml?version=1", headers=ADMIN).json()["xml"] == triage()
    assert client.get(f"{BASE}/definitions/triage/xml?version=7", headers=ADMIN).status_code == 404


def test_a_draft_of_a_deployed_process_is_listed_and_reopened(client):
    assert client.post(f"{BASE}/deploy", json={"xml": triage(), "comment": "首版"}, headers=ADMIN).status_code == 201
    edited = triage('camunda:candidateGroups="dept_head" camunda:formKey="expense_review" hospital:sla="P1D"')
    assert client.put(f"{BASE}/drafts/triage", json={"xml": edited}, headers=ADMIN).status_code == 200
    rows = client.get(f"{BASE}/definitions", headers=ADMIN).json()
    assert [(r["key"], r["version"]) for r in rows] == [("triage", 1), ("triage", 0)]
    # what the Open dialog sends for the draft row
    reopened = client.get(f"{BASE}/definitions/triage/xml?version=0", headers=ADMIN)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json() == {"key": "triage", "version": 0, "xml": edited, "draft": True}
    assert client.get(f"{BASE}/definitions/triage/xml", headers=ADMIN).json()["xml"] == triage()
    missing = client.get(f"{BASE}/definitions/other/xml?version=0", headers=ADMIN)
    assert missing.status_code == 404 and "草稿" in missing.json()["detail"]


def test_import_report(client):
    r = client.post(f"{BASE}/import", json={"xml": CAMUNDA}, headers=ADMIN).json()
    statuses = {(i["element_id"], i["attribute"]): i["status"] for i in r["report"]}
    assert statuses[("review", "camunda:candidateGroups")] == "mapped"
    assert statuses[("java", "camunda:class")] == "unsupported"
    assert "hospital:assigneeExpr" in r["xml"]


def test_dry_run(client):
    r = client.post(
        f"{BASE}/dry-run",
        json={"xml": triage(), "data": {"amount": 500}, "outcomes": {"dept_review": "reject"}},
        headers=ADMIN,
    )
    body = r.json()
    assert r.status_code == 200 and body["end_state"] == "completed:end_no"
    assert [t["element_id"] for t in body["tasks"]] == ["apply", "dept_review"]
    assert body["tasks"][1]["roles"] == ["dept_head"]


def test_instances_and_migrate(client):
    client.post(f"{BASE}/deploy", json={"xml": triage(), "comment": ""}, headers=ADMIN)
    started = client.post(
        "/api/processes/triage/instances",
        json={"institution": "h1", "business_key": "T-1"},
        headers=as_user("alice"),
    )
    assert started.status_code == 201, started.text
    v2 = triage('camunda:candidateGroups="dept_head" camunda:formKey="expense_review" hospital:sla="P3D"')
    client.post(f"{BASE}/deploy", json={"xml": v2, "comment": ""}, headers=ADMIN)
    items = client.get(f"{BASE}/definitions/triage/instances?version=1", headers=ADMIN).json()
    assert [(i["business_key"], i["current"], i["migratable"]) for i in items] == [("T-1", ["apply"], True)]
    assert (
        client.post(
            f"{BASE}/migrate",
            json={
                "key": "triage",
                "from_version": 1,
                "to_version": 2,
                "instance_ids": [items[0]["id"]],
                "reason": "",
            },
            headers=ADMIN,
        ).status_code
        == 422
    )
    report = client.post(
        f"{BASE}/migrate",
        json={
            "key": "triage",
            "from_version": 1,
            "to_version": 2,
            "instance_ids": [items[0]["id"]],
            "reason": "SLA 调整",
        },
        headers=ADMIN,
    ).json()
    assert report["results"] == [
        {"id": items[0]["id"], "business_key": "T-1", "status": "migrated", "message": "v1 → v2"}
    ]
    assert client.get(f"{BASE}/definitions/triage/instances?version=1", headers=ADMIN).json() == []
