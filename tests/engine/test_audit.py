"""The audit trail is hash-chained: edits, deletions and insertions are detected."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine import deploy, start_instance, verify_audit_chain
from tests.audit_guard import audit_guard_lifted
from tests.conftest import read_bundle, sql


def _tamper(ctx, statement):
    """Tamper as someone with DDL rights would: lift the append-only triggers first."""
    with ctx.db.unit_of_work() as session, audit_guard_lifted(session):
        session.execute(text(statement))


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


@pytest.mark.parametrize(("statement", "seq"), [
    ("update audit_log set actor = 'mallory' where seq = 2", 2),  # an edited record
    ("update audit_log set prev_hash = 'x' where seq = 4", 4),  # a record relinked to another predecessor
], ids=["edited", "relinked"])
def test_edited_or_relinked_record_is_detected(ctx, statement, seq):
    _some_history(ctx)
    _tamper(ctx, statement)
    report = verify_audit_chain(ctx)
    assert (report.ok, report.first_bad_seq) == (False, seq)


def test_deleted_record_is_detected(ctx):
    _some_history(ctx)
    _tamper(ctx, "delete from audit_log where seq = 3")
    assert verify_audit_chain(ctx).first_bad_seq == 3


def test_deleted_last_record_is_detected(ctx):
    _some_history(ctx)
    _tamper(ctx, "delete from audit_log where seq = 4")
    report = verify_audit_chain(ctx)
    assert (report.ok, report.checked, report.first_bad_seq) == (False, 3, 4)
    assert "deleted" in report.problem


def test_deleted_tail_with_rewound_head_seq_is_detected_by_the_head_hash(ctx):
    _some_history(ctx)
    _tamper(ctx, "delete from audit_log where seq = 4")
    _tamper(ctx, "update audit_head set seq = 3")
    report = verify_audit_chain(ctx)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "head" in report.problem


def test_record_beyond_the_head_is_detected(ctx):
    _some_history(ctx)
    _tamper(ctx, "update audit_head set seq = 3")
    report = verify_audit_chain(ctx)
    assert not report.ok


def test_head_follows_every_append(ctx):
    _some_history(ctx)
    (seq, head_hash), = sql(ctx, "select seq, hash from audit_head")
    (last_hash,), = sql(ctx, "select hash from audit_log order by seq desc limit 1")
    assert (seq, head_hash) == (4, last_hash)


@pytest.mark.parametrize("statement", [
    "update audit_log set actor = 'mallory' where seq = 2",
    "delete from audit_log where seq = 4",
    "delete from audit_log",
    "delete from audit_head",
    "update audit_head set seq = 1",
])
def test_database_refuses_to_change_audit_rows(ctx, statement):
    _some_history(ctx)
    with pytest.raises(DBAPIError, match="append-only"):
        sql(ctx, statement)
    assert verify_audit_chain(ctx).ok
    assert sql(ctx, "select count(*) from audit_log") == [(4,)]


def test_database_refuses_truncate_on_postgres(ctx, backend):
    if backend != "postgres":
        pytest.skip("SQLite has no TRUNCATE")
    _some_history(ctx)
    with pytest.raises(DBAPIError, match="append-only"):
        sql(ctx, "truncate audit_log")


def test_audit_stores_a_digest_not_patient_data(ctx):
    deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
    start_instance(ctx, "approval", initiator="alice", institution="h1", data={"patient": "李四 13800138000"})
    rows = sql(ctx, "select details, payload_digest, reason from audit_log")
    assert "13800138000" not in repr(rows) and "李四" not in repr(rows)
