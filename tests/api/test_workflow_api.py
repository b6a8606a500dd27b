"""The workflow endpoints end to end: deploy, start, inbox, read, complete, errors."""
from __future__ import annotations

from tests.api.conftest import as_user
from tests.conftest import DATA, sql


def _deploy(client):
    files = [("files", ("approval.bpmn", (DATA / "approval.bpmn").read_bytes(), "application/xml"))]
    return client.post("/api/definitions", files=files, headers=as_user("admin"))


def test_unauthenticated_requests_are_refused(client):
    r = client.get("/api/tasks")
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_deploy_start_complete_round_trip(client):
    assert _deploy(client).status_code == 201
    r = client.post("/api/processes/approval/instances", json={"institution": "h1", "business_key": "B1"},
                    headers=as_user("alice"))
    assert r.status_code == 201, r.text
    task_id = r.json()["open_tasks"][0]["id"]
    assert [t["id"] for t in client.get("/api/tasks", headers=as_user("alice")).json()] == [task_id]

    bad = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"amount": "lots"}}, headers=as_user("alice"))
    assert bad.status_code == 422
    assert {f["pointer"] for f in bad.json()["fields"]} >= {"/amount", "/reason", "/applicant_name"}

    detail = client.get(f"/api/tasks/{task_id}", headers=as_user("alice")).json()
    assert detail["schema"]["properties"]["amount"]["title"] == "金额"

    ok = client.post(f"/api/tasks/{task_id}/complete", headers=as_user("alice"),
                     json={"data": {"applicant_name": "张三", "amount": 10, "reason": "耗材采购"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["created"][0]["node_id"] == "dept_review"
    assert client.post(f"/api/tasks/{task_id}/complete", json={}, headers=as_user("alice")).status_code == 409
    review = client.get("/api/tasks", headers=as_user("dr_wang")).json()[0]
    assert client.post(f"/api/tasks/{review['id']}/complete", json={"outcome": "approve"},
                       headers=as_user("alice")).status_code == 403


def test_staff_start_needs_a_start_role_in_that_institution(client):
    assert _deploy(client).status_code == 201  # hospital:startRoles="staff"
    no_role = client.post("/api/processes/approval/instances", json={"institution": "h1"},
                          headers=as_user("dr_wang"))  # dept_head only
    assert no_role.status_code == 403 and no_role.json()["code"] == "permission_denied", no_role.text
    elsewhere = client.post("/api/processes/approval/instances", json={"institution": "h2"},
                            headers=as_user("alice"))  # staff in h1 only
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "permission_denied"
    assert client.get("/api/tasks", headers=as_user("alice")).json() == []


def test_an_instance_is_shown_only_to_those_who_may_read_it(client):
    assert _deploy(client).status_code == 201
    started = client.post("/api/processes/approval/instances", json={"institution": "h1"},
                          headers=as_user("alice"))
    path = f"/api/instances/{started.json()['id']}"
    assert client.get(path, headers=as_user("alice")).status_code == 200  # the initiator
    assert client.get(path, headers=as_user("admin")).status_code == 200
    outsider = client.get(path, headers=as_user("bob"))  # staff of another institution
    assert outsider.status_code == 403 and outsider.json()["code"] == "permission_denied", outsider.text
    # audited once, where the engine decided (not again by the API's safety net)
    denied = sql(client.app.state.ctx, "SELECT details FROM audit_log WHERE actor = 'bob' AND action = 'access.denied'")
    assert len(denied) == 1, denied


def test_invalid_bpmn_returns_diagnostics_not_a_trace(client):
    files = [("files", ("broken.bpmn", b"<bpmn:definitions xmlns:bpmn='x'><oops", "application/xml"))]
    r = client.post("/api/definitions", files=files, headers=as_user("admin"))
    assert r.status_code == 422
    body = r.json()
    assert body["diagnostics"] and "Traceback" not in r.text


def test_unknown_things_are_404(client):
    assert client.get("/api/instances/nope", headers=as_user("alice")).status_code == 404
    assert client.post("/api/processes/nope/instances", json={"institution": "h1"},
                       headers=as_user("alice")).status_code == 404
