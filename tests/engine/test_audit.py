"""The audit trail is hash-chained: edits, deletions and insertions are detected."""
from __future__ import annotations

from engine import deploy, start_instance, verify_audit_chain
from tests.conftest import read_bundle, sql


def _some_history(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    for n in range(3):
        start_instance(ctx, "approval", initiator="alice", institution="h1", business_key=f"B-{n}")


def test_chain_verifies_and_records_every_command(ctx):
    _some_history(ctx)
    report = verify_audit_chain(ctx)
    assert report.ok and report.checked == 4
    actions = [r[0] for r in sql(ctx, "select action from audit_log order by seq")]
    assert actions == ["definition.deploy"] + ["instance.start"] * 3


def test_edited_record_is_detected(ctx):
    _some_history(ctx)
    sql(ctx, "update audit_log set actor = 'mallory' where seq = 2")
    report = verify_audit_chain(ctx)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_deleted_record_is_detected(ctx):
    _some_history(ctx)
    sql(ctx, "delete from audit_log where seq = 3")
    assert verify_audit_chain(ctx).first_bad_seq == 3


def test_deleted_tail_and_relinked_record_is_detected(ctx):
    _some_history(ctx)
    sql(ctx, "update audit_log set prev_hash = 'x' where seq = 4")
    assert not verify_audit_chain(ctx).ok


def test_audit_stores_a_digest_not_patient_data(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    start_instance(ctx, "approval", initiator="alice", institution="h1", data={"patient": "李四 13800138000"})
    rows = sql(ctx, "select details, payload_digest, reason from audit_log")
    assert "13800138000" not in repr(rows) and "李四" not in repr(rows)
