"""Patient ID number and phone in process data: never stored in plain, masked for ordinary staff, shown
in full (and audited) to `pii`/`read` holders, still plain for the connectors that need them.

The medical-record copy runs through the signed /api/v1 and the inbox API as in
tests/api/test_v1_medical_record_e2e.py, on SQLite and PostgreSQL (the `ctx` fixture).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update

import engine
from engine.models import AuditRecord, Definition, Instance

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER, PHONE = "310106198001011234", "13800000000"
MASKED_ID, MASKED_PHONE = "310106********1234", "138****0000"
SCANNED = ("instances", "human_tasks", "audit_log", "signers", "notifications", "jobs", "incidents")


def _start(platform: Any, key: str) -> str:
    payload = json.loads((ROOT / "processes/medical_records/test_medical_record_copy.json").read_text("utf-8"))
    data = {**payload["scenarios"][1]["steps"][0]["start"]["data"], "institution": "sq_east"}
    assert data["id_number"] == ID_NUMBER and data["phone"] == PHONE
    started = platform.signed("POST", "/api/v1/processes/medical_record_copy/instances",
                              {"business_key": key, "institution": "sq_east", "initiator_ref": "patient:u1",
                               "payload": data}, **{"Idempotency-Key": key})
    assert started.status_code == 201, started.text
    engine.run_due_jobs(platform.ctx, "pii")  # identity check and archive lookup against the fake servers
    return started.json()["id"]


def _review_task(platform: Any, iid: str) -> dict[str, Any]:
    platform.login("lihong")
    return next(t for t in platform.web.get("/api/tasks").json() if t["instance_id"] == iid)


def _rows_as_text(ctx: Any, table: str) -> str:
    rows = ctx.db.read(lambda s: s.execute(text(f"SELECT * FROM {table}")).all())  # noqa: S608 - fixed names
    return "\n".join(str(tuple(r)) for r in rows)


def test_stored_sealed_masked_for_a_reviewer_full_and_audited_for_pii_read(platform, systems):
    ctx, web = platform.ctx, platform.web
    iid = _start(platform, "MR-PII-1")
    # The connectors (archive check, identity) got the plain values from the in-memory workflow.
    archive = systems["his"].calls("/archive/check")
    assert archive and archive[-1]["json"]["id_number"] == ID_NUMBER

    task = _review_task(platform, iid)
    csrf = platform.login("lihong")
    detail = web.get(f"/api/tasks/{task['id']}").json()
    assert detail["data"]["id_number"] == MASKED_ID and detail["data"]["phone"] == MASKED_PHONE
    page = web.get(f"/tasks/{task['id']}").text
    assert MASKED_ID in page and ID_NUMBER not in page and PHONE not in page

    def reads(session: Any) -> list[AuditRecord]:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")))

    assert ctx.db.read(reads) == []  # masking is not a reveal
    platform.login("xitong_admin")  # sys_admin: `pii`, `read` everywhere
    full = web.get(f"/api/tasks/{task['id']}").json()
    assert full["data"]["id_number"] == ID_NUMBER and full["data"]["phone"] == PHONE
    csrf = platform.login("lihong")
    # Read-only fields sent back as shown (masked) count as unchanged; the workflow keeps the real values.
    done = web.post(f"/api/tasks/{task['id']}/complete", headers={"X-CSRF-Token": csrf},
                    json={"outcome": "approve", "data": {"pages": 12, "fee_amount": 6.0,
                                                         "id_number": MASKED_ID, "phone": MASKED_PHONE}})
    assert done.status_code == 200, done.text
    engine.run_due_jobs(ctx, "pii")
    assert systems["notify"].calls() and any(
        PHONE in json.dumps(c["json"], ensure_ascii=False) for c in systems["notify"].calls())

    for table in SCANNED:
        stored = _rows_as_text(ctx, table)
        assert ID_NUMBER not in stored and PHONE not in stored, f"plain patient data in {table}"
    assert "pii:v" in _rows_as_text(ctx, "instances")
    [record] = ctx.db.read(reads)
    assert record.actor == "xitong_admin" and record.instance_id == iid and record.task_id == task["id"]
    assert "id_number" in record.details["fields"] and "phone" in record.details["fields"]
    assert engine.verify_audit_chain(ctx).ok


def test_a_state_stored_in_plain_before_still_loads_and_is_sealed_on_the_next_save(platform):
    ctx = platform.ctx
    iid = _start(platform, "MR-PII-2")

    def to_plain(session: Any) -> None:
        instance = session.get(Instance, iid)
        definition = session.get(Definition, instance.definition_id)
        workflow = ctx.runtime.restore(ctx.specs.get(definition, ctx.runtime), instance.state)
        codec, ctx.runtime.serializer.codec = ctx.runtime.serializer.codec, None
        try:
            plain = ctx.runtime.dump(workflow)  # what the platform stored before sealing existed
        finally:
            ctx.runtime.serializer.codec = codec
        assert ID_NUMBER in plain and "pii:v" not in plain
        session.execute(update(Instance).where(Instance.id == iid).values(state=plain))

    ctx.db.run(to_plain)
    task = _review_task(platform, iid)
    csrf = platform.login("lihong")
    assert platform.web.get(f"/api/tasks/{task['id']}").json()["data"]["id_number"] == MASKED_ID
    done = platform.web.post(f"/api/tasks/{task['id']}/complete", headers={"X-CSRF-Token": csrf},
                             json={"outcome": "approve", "data": {"pages": 3, "fee_amount": 2.0}})
    assert done.status_code == 200, done.text
    state = ctx.db.read(lambda s: s.get(Instance, iid).state)
    assert ID_NUMBER not in state and PHONE not in state and "pii:v" in state
