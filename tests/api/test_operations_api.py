"""The operation endpoints end to end: status codes, shapes and the one error translation point."""
from __future__ import annotations

from engine import Subject
from tests.api.conftest import USERS, as_user, deploy_file, start_and_apply

USERS.update({n: Subject(n) for n in ("e1", "e2", "e3", "archivist")})


def test_countersign_vote_send_back_withdraw_urge_cc_and_notifications(client):
    deploy_file(client, "countersign.bpmn")
    instance_id, _, created = start_and_apply(client, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
    assert sorted(t["assignee"] for t in created) == ["e1", "e2", "e3"]
    mine = {t["assignee"]: t["id"] for t in created}
    r = client.post(f"/api/tasks/{mine['e1']}/complete", json={"outcome": "approve"}, headers=as_user("e1"))
    assert r.status_code == 200, r.text
    signers = client.get(f"/api/tasks/{mine['e2']}/signers", headers=as_user("e2")).json()
    assert [s["state"] for s in signers] == ["approved", "open", "open"]

    assert client.post(f"/api/instances/{instance_id}/urge", json={}, headers=as_user("e2")).status_code == 403
    assert client.post(f"/api/instances/{instance_id}/urge", json={"reason": "急"},
                       headers=as_user("alice")).status_code == 200
    limited = client.post(f"/api/instances/{instance_id}/urge", json={}, headers=as_user("alice"))
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"

    assert client.post(f"/api/instances/{instance_id}/cc", json={"usernames": ["archivist"]},
                       headers=as_user("alice")).json() == ["archivist"]
    assert [i["id"] for i in client.get("/api/cc", headers=as_user("archivist")).json()] == [instance_id]
    count = client.get("/api/notifications/unread-count", headers=as_user("archivist")).json()
    assert count == {"unread": 1, "by_kind": {"cc": 1}}
    assert client.post("/api/notifications/read", json={}, headers=as_user("archivist")).json() == {
        "unread": 0, "by_kind": {}}

    no_reason = client.post(f"/api/tasks/{mine['e2']}/send-back", json={"target": "applicant"},
                            headers=as_user("e2"))
    assert no_reason.status_code == 422
    back = client.post(f"/api/tasks/{mine['e2']}/send-back", json={"target": "applicant", "reason": "补材料"},
                       headers=as_user("e2"))
    assert back.status_code == 200 and back.json()["tasks"][0]["node_id"] == "apply"
    timeline = client.get(f"/api/instances/{instance_id}/timeline", headers=as_user("alice")).json()
    assert "task.send_back" in [e["action"] for e in timeline]
    assert client.post(f"/api/instances/{instance_id}/withdraw", json={}, headers=as_user("e3")).status_code == 404


def test_claim_signer_delegate_transfer_admin_and_attachments(client):
    deploy_file(client, "approval.bpmn")
    instance_id, _, created = start_and_apply(client, "approval")
    task_id = created[0]["id"]
    assert client.post(f"/api/tasks/{task_id}/claim", json={}, headers=as_user("alice")).status_code == 403
    assert client.post(f"/api/tasks/{task_id}/claim", json={}, headers=as_user("dr_wang")).json()["assignee"] \
        == "dr_wang"
    added = client.post(f"/api/tasks/{task_id}/signers", json={"username": "e1", "position": "before"},
                        headers=as_user("dr_wang"))
    assert added.status_code == 200 and added.json()["tasks"][0]["assignee"] == "e1"
    signer = client.get(f"/api/tasks/{task_id}/signers", headers=as_user("dr_wang")).json()[0]
    assert client.delete(f"/api/signers/{signer['id']}", headers=as_user("dr_wang")).status_code == 200
    assert client.post(f"/api/tasks/{task_id}/delegate", json={"username": "e2"},
                       headers=as_user("dr_wang")).json()["assignee"] == "e2"
    assert client.post(f"/api/tasks/{task_id}/transfer", json={"username": "e3"},
                       headers=as_user("dr_wang")).status_code == 403  # delegated: e2 holds it now
    assert client.post(f"/api/tasks/{task_id}/admin/reassign", json={"username": "e3"},
                       headers=as_user("admin")).status_code == 422  # reason required
    assert client.post(f"/api/tasks/{task_id}/admin/skip", json={"reason": "停机"},
                       headers=as_user("dr_wang")).status_code == 403
    skipped = client.post(f"/api/tasks/{task_id}/admin/skip", json={"reason": "停机"}, headers=as_user("admin"))
    assert skipped.status_code == 200 and skipped.json()["tasks"][0]["node_id"] == "finance_review"
    assert client.post(f"/api/instances/{instance_id}/admin/reset", json={"node_id": "nope", "reason": "x"},
                       headers=as_user("admin")).status_code == 409

    pdf = b"%PDF-1.4\n%test\n"
    up = client.post(f"/api/instances/{instance_id}/attachments", headers=as_user("alice"),
                     files={"file": ("发票.pdf", pdf, "application/pdf")})
    assert up.status_code == 201, up.text
    bad = client.post(f"/api/instances/{instance_id}/attachments", headers=as_user("alice"),
                      files={"file": ("x.pdf", b"<script>", "application/pdf")})
    assert bad.status_code == 422
    got = client.get(f"/api/attachments/{up.json()['id']}", headers=as_user("alice"))
    assert got.content == pdf and got.headers["x-content-sha256"] == up.json()["sha256"]
    assert client.post(f"/api/instances/{instance_id}/comments", json={"body": "好"},
                       headers=as_user("alice")).status_code == 201
    assert len(client.get(f"/api/instances/{instance_id}/comments", headers=as_user("alice")).json()) == 1
    results = client.post("/api/tasks/bulk-approve", json={"task_ids": [task_id]}, headers=as_user("alice")).json()
    assert results[0]["ok"] is False
    assert client.post("/api/admin/reassign-all", json={"from_user": "a", "to_user": "b", "reason": "休假"},
                       headers=as_user("alice")).status_code == 403
