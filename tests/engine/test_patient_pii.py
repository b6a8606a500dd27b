"""x-sensitive fields through the engine (approval.bpmn with its `expense` form marked): sealed rows, masked
title and reviewer view, a `pii`/`read` holder's audited view, and the applicant editing their own form
after the reviewer returns it."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine import Subject, audit, claim_task, complete_task, deploy, get_instance, get_task, pii, start_instance
from engine.models import AuditRecord
from tests.conftest import DATA, read_bundle, sql
from tests.engine.operations.helpers import ALICE, HEAD, VALID, task_of

ID_NUMBER = "11010119900101123X"
SYS_ADMIN = Subject("xitong", {"h1": frozenset({"sys_admin"})})


def _bundle() -> dict[str, bytes]:
    bundle = read_bundle("approval.bpmn")
    bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(
        b'hospital:readonlyFields="amount,applicant_name"',
        b'hospital:readonlyFields="amount,applicant_name,id_number"')
    schema = json.loads((DATA / "forms" / "expense.schema.json").read_text("utf-8"))
    schema["properties"]["id_number"]["x-sensitive"] = "id_number"
    schema["properties"]["applicant_name"]["x-sensitive"] = "name"
    bundle["expense.schema.json"] = json.dumps(schema, ensure_ascii=False).encode()
    return bundle


def _pii_reads(ctx) -> list[AuditRecord]:
    with ctx.db.unit_of_work() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == "pii.read")))


def test_sealed_masked_revealed_and_editable_by_the_applicant(ctx):
    deploy(ctx, _bundle(), actor="admin")
    view = start_instance(ctx, "approval", initiator="alice", institution="h1")
    complete_task(ctx, view.open_tasks[0].id, ALICE, data={**VALID, "id_number": ID_NUMBER})

    stored = "\n".join(str(tuple(r)) for t in ("instances", "human_tasks", "audit_log")
                       for r in sql(ctx, f"SELECT * FROM {t}"))  # noqa: S608 - fixed names
    assert ID_NUMBER not in stored and "张三" not in stored
    assert get_instance(ctx, view.id).title == "张* 申请 1200元"  # the title is rendered from masked data
    assert get_instance(ctx, view.id, with_data=True).data["id_number"] == ID_NUMBER  # engine-internal read

    review = task_of(ctx, HEAD, view.id)
    shown = get_task(ctx, review.id, HEAD).data
    assert shown["id_number"] == "110101********123X" and shown["applicant_name"] == "张*"
    assert get_instance(ctx, view.id, with_data=True, subject=HEAD).data["id_number"] == "110101********123X"
    assert _pii_reads(ctx) == []

    assert get_task(ctx, review.id, SYS_ADMIN).data["id_number"] == ID_NUMBER
    [record] = _pii_reads(ctx)
    assert record.actor == "xitong" and record.task_id == review.id
    assert record.details["fields"] == ["applicant_name", "id_number"]

    # The reviewer returns it (reject → apply); the applicant must correct the number, so sees it whole.
    complete_task(ctx, review.id, HEAD, outcome="reject")
    again = task_of(ctx, ALICE, view.id, node_id="apply")
    assert get_task(ctx, again.id, ALICE).data["id_number"] == ID_NUMBER
    assert len(_pii_reads(ctx)) == 1  # filling in one's own form is not a reveal
    complete_task(ctx, again.id, ALICE, data={**VALID, "id_number": "110101199001011234"})
    assert get_instance(ctx, view.id, with_data=True).data["id_number"] == "110101199001011234"
    stored = "\n".join(str(tuple(r)) for t in ("instances", "human_tasks")
                       for r in sql(ctx, f"SELECT * FROM {t}"))  # noqa: S608 - fixed names
    assert "110101199001011234" not in stored and ID_NUMBER not in stored


def test_state_inside_a_called_process_is_sealed_and_opens_in_memory():
    """Pure runtime: the data of a call activity's tasks (subprocess state, SpiffWorkflow deltas) is sealed."""
    from engine.bpmn.runtime import BpmnRuntime
    from engine.bpmn.script_env import make_script_engine
    from engine.security.fields import FieldCipher, generate_key
    from engine.security.form_fields import FormFieldCodec, sensitive_fields

    runtime = BpmnRuntime(make_script_engine)
    runtime.serializer.codec = FormFieldCodec(FieldCipher({1: generate_key()}, 1))
    specs = runtime.load_specs(runtime.parse_bundle(read_bundle("callactivity.bpmn"), "withcall").spec_json)
    runtime.serializer.mark_sensitive(specs[0], sensitive_fields(
        [{"properties": {"id_number": {"type": "string", "x-sensitive": "id_number"}}}]))
    workflow = runtime.new_workflow(specs, {"applicant_name": "张三"})
    runtime.advance(workflow)
    [apply] = runtime.ready_steps(workflow)
    runtime.complete_step(workflow, apply.task_id, {"id_number": ID_NUMBER})
    [inside] = runtime.ready_steps(workflow)
    assert inside.node_id == "c_dept" and inside.data["id_number"] == ID_NUMBER
    state = runtime.dump(workflow)
    assert ID_NUMBER not in state and '"pii:v1:' in state
    restored = runtime.restore(specs, state)
    [again] = runtime.ready_steps(restored)
    assert again.data["id_number"] == ID_NUMBER  # in memory the called process sees the plain value
    runtime.complete_step(restored, again.task_id, {"outcome": "approve"})
    assert ID_NUMBER not in runtime.dump(restored)


def test_the_audit_digest_of_a_submission_is_keyed(ctx):
    """A plain sha256 of `{id_number, outcome, …}` could be found by hashing every possible ID number."""
    deploy(ctx, _bundle(), actor="admin")
    view = start_instance(ctx, "approval", initiator="alice", institution="h1")
    task_id = view.open_tasks[0].id
    complete_task(ctx, task_id, ALICE, data={**VALID, "id_number": ID_NUMBER})
    [(stored,)] = sql(ctx, "SELECT payload_digest FROM audit_log WHERE action = 'task.complete' AND task_id = :t",
                      t=task_id)
    [(row_data,)] = sql(ctx, "SELECT data FROM human_tasks WHERE id = :t", t=task_id)
    accepted = pii.open_data(ctx, json.loads(row_data) if isinstance(row_data, str) else row_data)
    assert accepted["id_number"] == ID_NUMBER
    assert stored == audit.digest(accepted, pii.digest_key(ctx)) != audit.digest(accepted)


def test_an_editable_marked_field_is_masked_to_the_pool_until_the_task_is_claimed(ctx):
    bundle = _bundle()
    bundle["approval.bpmn"] = bundle["approval.bpmn"].replace(  # id_number editable at the review step
        b'hospital:readonlyFields="amount,applicant_name,id_number"', b'hospital:readonlyFields="amount"')
    deploy(ctx, bundle, actor="admin")
    view = start_instance(ctx, "approval", initiator="alice", institution="h1")
    complete_task(ctx, view.open_tasks[0].id, ALICE, data={**VALID, "id_number": ID_NUMBER})
    review = task_of(ctx, HEAD, view.id)
    assert review.assignee is None
    assert get_task(ctx, review.id, HEAD).data["id_number"] == "110101********123X"  # any dept_head may look
    claim_task(ctx, review.id, HEAD)
    assert get_task(ctx, review.id, HEAD).data["id_number"] == ID_NUMBER  # the holder fills it in
    assert _pii_reads(ctx) == []
    complete_task(ctx, review.id, HEAD, outcome="approve", data={"id_number": "110101********123X"})
    assert get_instance(ctx, view.id, with_data=True).data["id_number"] == ID_NUMBER  # a masked echo is unchanged
