"""Medical-record copy driven only through the signed /api/v1 (the patient app) and the inbox task endpoints
(the records-room staff), with the fake identity / HIS / notify servers behind the connectors: the
Idempotency-Key header and the history summary. Every path of the process runs over HTTP in
tests/processes/test_scenarios_http.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


def test_patient_app_and_staff(platform):
    ctx, web, signed = platform.ctx, platform.web, platform.signed
    payload = json.loads((ROOT / "processes/medical_records/test_medical_record_copy.json").read_text("utf-8"))
    data = payload["scenarios"][1]["steps"][0]["start"]["data"]
    data = {**data, "institution": "sq_east"}  # one review level (DMN)
    started = signed("POST", "/api/v1/processes/medical_record_copy/instances",
                     {"business_key": "MR-E2E-1", "institution": "sq_east", "initiator_ref": "patient:u1",
                      "payload": data}, **{"Idempotency-Key": "e2e-1"})
    assert started.status_code == 201, started.text
    iid = started.json()["id"]
    engine.run_due_jobs(ctx, "e2e")  # identity check and archive lookup against the fake servers
    shown = signed("GET", f"/api/v1/instances/{iid}").json()
    assert [s["step"] for s in shown["current_steps"]] == ["records_review"], shown
    # the records-room clerk works the task from the inbox
    csrf = platform.login("lihong")
    inbox = web.get("/api/tasks").json()
    task = next(t for t in inbox if t["instance_id"] == iid)
    done = web.post(f"/api/tasks/{task['id']}/complete", headers={"X-CSRF-Token": csrf},
                    json={"outcome": "approve", "data": {"pages": 12, "fee_amount": 6.0}})
    assert done.status_code == 200, done.text
    web.cookies.clear()
    engine.run_due_jobs(ctx, "e2e")
    after = signed("GET", f"/api/v1/instances/{iid}").json()
    assert after["state"] == "running" and any(h["step"] == "records_review" for h in after["history"])
    paid = signed("POST", "/api/v1/messages/payment_result",
                  {"correlation_key": "MR-E2E-1", "payload": {"status": "paid", "amount": 6.0}, "delivery_id": "p1"})
    assert paid.status_code == 202 and paid.json()["status"] == "delivered", paid.text
    engine.run_due_jobs(ctx, "e2e")
    assert [s["step"] for s in signed("GET", f"/api/v1/instances/{iid}").json()["current_steps"]] == ["records_upload"]
