"""Key rotation: `reseal_sensitive` moves every sealed value to the current key, after which the old key
can be removed and every row still opens (instance state, task rows, votes, job parameters, staff fields)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import complete_task, deploy, get_instance, pii, reseal_sensitive, start_instance
from engine.config import Settings
from engine.identity.clients import SECRET_CONTEXT
from engine.identity.credentials import TOTP_CONTEXT
from engine.identity.users import UserFields, apply_sensitive, decrypt_pii
from engine.jobs.queue import enqueue
from engine.models import ApiClientRecord, AuditRecord, Definition, HumanTask, Instance, Institution, Job, Signer, User
from engine.security.fields import FieldCipher, generate_key
from engine.security.form_fields import FormFieldCodec
from engine.service_tasks import _seal_params, job_params
from tests.conftest import DATA, read_bundle, sql
from tests.engine.operations.helpers import ALICE, HEAD, VALID, task_of

ID_NUMBER = "11010119900101123X"
K1, K2 = generate_key(), generate_key()


def _use_keys(ctx, keys: dict[int, str], current: int) -> FieldCipher:
    """What a restart with a new HWF_FIELD_ENCRYPTION_KEY does: one cipher for staff fields and form fields."""
    cipher = ctx.extras["_field_cipher"] = FieldCipher(keys, current)
    ctx.runtime.serializer.codec = FormFieldCodec(cipher)
    return cipher


def _bundle() -> dict[str, bytes]:
    bundle = read_bundle("approval.bpmn")
    schema = json.loads((DATA / "forms" / "expense.schema.json").read_text("utf-8"))
    schema["properties"]["id_number"]["x-sensitive"] = "id_number"
    bundle["expense.schema.json"] = json.dumps(schema, ensure_ascii=False).encode()
    return bundle


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _seed_rows(ctx, instance_id: str) -> None:
    """A countersign vote, a connector job, a staff account and an API client, all sealed under key v1."""
    cipher = ctx.extras["_field_cipher"]
    with ctx.db.unit_of_work() as session:
        instance = session.get(Instance, instance_id)
        definition = session.get(Definition, instance.definition_id)
        session.add(Signer(instance_id=instance_id, username="e1", state="done", outcome="approve",
                           data=pii.seal_data(ctx, definition, {"id_number": ID_NUMBER, "outcome": "approve"})))
        enqueue(session, "connector", {"instance_id": instance_id, "task_id": "t-1", "node_id": "his",
                                       "connector": "his", "params": None,
                                       "params_sealed": _seal_params(ctx, "t-1", {"patient_id": ID_NUMBER})},
                run_at=ctx.clock.now(), instance_id=instance_id)
        session.add(Institution(code="rk", name="轮换医院", kind="hospital"))
        session.flush()
        user = User(username="rotate_me", employee_no="R001", display_name="轮换", institution_code="rk",
                    password_history=[], totp_secret_enc=cipher.encrypt("JBSWY3DPEHPK3PXP", context=TOTP_CONTEXT))
        apply_sensitive(ctx, user, UserFields(phone="13800138000", id_number=ID_NUMBER))
        session.add(user)
        session.add(ApiClientRecord(key_id="rk-his", name="HIS",
                                    secret_enc=cipher.encrypt("client-secret", context=SECRET_CONTEXT)))


def _check_everything_opens(ctx, instance_id: str) -> None:
    assert get_instance(ctx, instance_id, with_data=True).data["id_number"] == ID_NUMBER  # state loads
    with ctx.db.unit_of_work() as session:
        task_rows = [pii.open_data(ctx, t.data) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.data.is_not(None)))]
        votes = [pii.open_data(ctx, s.data) for s in session.scalars(select(Signer))]
        [job] = session.scalars(select(Job).where(Job.kind == "connector")).all()
        user = session.scalars(select(User).where(User.username == "rotate_me")).one()
        client = session.get(ApiClientRecord, "rk-his")
        cipher = ctx.extras["_field_cipher"]
        assert task_rows and all(t["id_number"] == ID_NUMBER for t in task_rows)
        assert votes == [{"id_number": ID_NUMBER, "outcome": "approve"}]
        assert job_params(ctx, job.payload) == {"patient_id": ID_NUMBER}
        assert decrypt_pii(ctx, user) == ("13800138000", ID_NUMBER)
        assert cipher.decrypt(user.totp_secret_enc, context=TOTP_CONTEXT) == "JBSWY3DPEHPK3PXP"
        assert cipher.decrypt(client.secret_enc, context=SECRET_CONTEXT) == "client-secret"


def test_rotate_reseal_then_retire_the_old_key(ctx):
    _use_keys(ctx, {1: K1}, 1)
    deploy(ctx, _bundle(), actor="admin")
    running = start_instance(ctx, "approval", initiator="alice", institution="h1")
    complete_task(ctx, running.open_tasks[0].id, ALICE, data={**VALID, "id_number": ID_NUMBER})
    _seed_rows(ctx, running.id)
    [(state, row_version)] = sql(ctx, "SELECT state, row_version FROM instances WHERE id = :i", i=running.id)
    assert '"pii:v1:' in state

    _use_keys(ctx, {2: K2, 1: K1}, 2)  # new key current, old key kept for reading
    report = reseal_sensitive(ctx, batch=1)  # one row per transaction: the batch boundaries are crossed
    assert report.key_version == 2
    assert report.rows == {"instances": 1, "human_tasks": 1, "signers": 1, "jobs": 1, "users": 1, "api_clients": 1}
    assert report.values >= 8  # state, task row, vote, job, phone + ID number + TOTP, client secret
    [(state, after_version)] = sql(ctx, "SELECT state, row_version FROM instances WHERE id = :i", i=running.id)
    assert '"pii:v1:' not in state and '"pii:v2:' in state and ID_NUMBER not in state
    assert after_version == row_version  # a command that read the instance before still saves

    _use_keys(ctx, {2: K2}, 2)  # the old key is gone
    _check_everything_opens(ctx, running.id)
    review = task_of(ctx, HEAD, running.id)
    complete_task(ctx, review.id, HEAD, outcome="approve")  # the instance goes on under the new key alone

    again = reseal_sensitive(ctx)
    assert again.values == 0 and again.total_rows == 0
    with ctx.db.unit_of_work() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "maintenance.reseal")
                                  .order_by(AuditRecord.seq)).all()
    assert [r.details["values"] for r in records] == [report.values, 0]
    assert records[0].details["rows"]["instances"] == 1 and records[0].actor == "maintenance"


def test_an_interrupted_run_leaves_every_row_readable_and_a_rerun_finishes(ctx, monkeypatch):
    _use_keys(ctx, {1: K1}, 1)
    deploy(ctx, _bundle(), actor="admin")
    ids = []
    for _ in range(3):
        view = start_instance(ctx, "approval", initiator="alice", institution="h1")
        complete_task(ctx, view.open_tasks[0].id, ALICE, data={**VALID, "id_number": ID_NUMBER})
        ids.append(view.id)
    _use_keys(ctx, {2: K2, 1: K1}, 2)

    serializer = ctx.runtime.serializer
    real, calls = serializer.reseal_state, []

    def crash_on_second(text):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(text)

    monkeypatch.setattr(serializer, "reseal_state", crash_on_second)
    try:
        reseal_sensitive(ctx, batch=1)
    except RuntimeError:
        pass
    monkeypatch.setattr(serializer, "reseal_state", real)
    states = [s for (s,) in sql(ctx, "SELECT state FROM instances")]
    assert sum('"pii:v1:' in s for s in states) == 2  # the first batch committed, the rest untouched
    for instance_id in ids:  # both keys still configured: everything opens mid-way
        assert get_instance(ctx, instance_id, with_data=True).data["id_number"] == ID_NUMBER

    report = reseal_sensitive(ctx, batch=2)
    assert report.rows["instances"] == 2 and report.rows["human_tasks"] == 3
    _use_keys(ctx, {2: K2}, 2)
    for instance_id in ids:
        assert get_instance(ctx, instance_id, with_data=True).data["id_number"] == ID_NUMBER


def test_a_second_field_key_needs_a_pinned_blind_index_key():
    """Derived from the whole key setting, the blind index would change with the rotation: refused at start."""
    with pytest.raises(ValueError, match="HWF_BLIND_INDEX_KEY"):
        Settings(field_encryption_key=f"2:{K2},1:{K1}")
    assert Settings(field_encryption_key=f"2:{K2},1:{K1}", blind_index_key=generate_key()).blind_index_key
