"""`/api/notifications/unread-count` answers the total and the count per kind; `POST /read` the same."""
from __future__ import annotations

from tests.api.conftest import as_user, deploy_file, start_and_apply


def test_unread_count_per_kind(client):
    deploy_file(client, "approval.bpmn")
    instance, _, _ = start_and_apply(client, "approval")
    review = client.get("/api/tasks", headers=as_user("dr_wang")).json()[0]["id"]
    assert client.post(f"/api/tasks/{review}/claim", json={}, headers=as_user("dr_wang")).status_code == 200
    assert client.get("/api/notifications/unread-count", headers=as_user("dr_wang")).json() == {
        "unread": 0, "by_kind": {}}

    assert client.post(f"/api/instances/{instance}/urge", json={"reason": "今天要用"},
                       headers=as_user("alice")).status_code == 200
    assert client.post(f"/api/instances/{instance}/withdraw", json={"reason": "填错了"},
                       headers=as_user("alice")).status_code == 200
    counts = client.get("/api/notifications/unread-count", headers=as_user("dr_wang"))
    assert counts.status_code == 200, counts.text
    assert counts.json() == {"unread": 2, "by_kind": {"urged": 1, "withdrawn": 1}}

    notes = client.get("/api/notifications", headers=as_user("dr_wang")).json()
    urged = [n["id"] for n in notes if n["kind"] == "urged"]
    after = client.post("/api/notifications/read", json={"ids": urged}, headers=as_user("dr_wang"))
    assert after.json() == {"unread": 1, "by_kind": {"withdrawn": 1}}
