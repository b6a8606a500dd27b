"""`GET /api/tasks/{id}` leaves a step's hidden fields out; submitting one is refused with 422."""
from __future__ import annotations

import pytest

from engine import Subject
from tests.api.conftest import APPLICATION, USERS, as_user, deploy_file, start_and_apply

ID_NUMBER = "11010119900101123X"


@pytest.fixture
def finance_task(client, monkeypatch):
    monkeypatch.setitem(USERS, "fin_li", Subject("fin_li", {"h1": frozenset({"finance"})}))
    deploy_file(client, "approval.bpmn")
    _, apply, _ = start_and_apply(client, "approval", application={**APPLICATION, "id_number": ID_NUMBER})
    review = client.get("/api/tasks", headers=as_user("dr_wang")).json()[0]["id"]
    assert client.post(f"/api/tasks/{review}/complete", json={"outcome": "approve"},
                       headers=as_user("dr_wang")).status_code == 200
    [task] = client.get("/api/tasks", headers=as_user("fin_li")).json()
    return task["id"], apply


def test_task_detail_leaves_hidden_fields_out(client, finance_task):
    task_id, apply = finance_task
    r = client.get(f"/api/tasks/{task_id}", headers=as_user("fin_li"))
    assert r.status_code == 200, r.text
    assert ID_NUMBER not in r.text and "id_number" not in r.text
    assert r.json()["data"]["amount"] == 10
    # the applicant's own step shows it to the applicant
    assert client.get(f"/api/tasks/{apply}", headers=as_user("alice")).json()["data"]["id_number"] == ID_NUMBER


def test_submitting_a_hidden_field_is_refused(client, finance_task):
    task_id, _ = finance_task
    r = client.post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve", "data": {"id_number": ID_NUMBER}},
                    headers=as_user("fin_li"))
    assert r.status_code == 422, r.text
    assert [f["pointer"] for f in r.json()["fields"]] == ["/id_number"]
    ok = client.post(f"/api/tasks/{task_id}/complete", json={"outcome": "approve", "data": {"comment": "同意"}},
                     headers=as_user("fin_li"))
    assert ok.status_code == 200, ok.text
