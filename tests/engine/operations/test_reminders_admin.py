"""催办 (rate limit), 抄送 (read-only grant, 抄送我的), comments/attachments, admin overrides, bulk, denials."""
from __future__ import annotations

import dataclasses
import threading

import pytest
from sqlalchemy import select

from engine import (
    URGENT_PRIORITY,
    InboxQuery,
    add_attachment,
    add_comment,
    admin_approve,
    admin_reassign,
    admin_reset,
    admin_skip,
    bulk_approve,
    bulk_reassign,
    cc,
    claim_task,
    complete_task,
    get_instance,
    get_task,
    inbox_page,
    list_attachments,
    list_cc,
    list_comments,
    read_attachment,
    start_instance,
    timeline,
    urge,
    verify_audit_chain,
)
from engine.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed
from engine.models import AuditRecord, Signer
from engine.operations import reminders
from tests.engine.operations.helpers import (
    ADMIN,
    ALICE,
    ARCHIVIST,
    E1,
    E2,
    FINANCE,
    HEAD,
    STRANGER,
    VALID,
    open_nodes,
    start,
    task_of,
)

PDF = b"%PDF-1.7\n" + b"x" * 100


def _denials(ctx):
    with ctx.db.unit_of_work() as session:
        return session.scalars(select(AuditRecord).where(AuditRecord.action == "access.denied")).all()


def test_urge_marks_urgent_and_is_rate_limited(ctx, clock):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    with pytest.raises(PermissionDenied):
        urge(ctx, view.id, E1)
    urged = urge(ctx, view.id, ALICE, reason="急用")
    assert len(urged) == 2 and all(t.priority >= URGENT_PRIORITY for t in urged)
    clock.advance(minutes=10)
    with pytest.raises(RateLimited):
        urge(ctx, view.id, ALICE)
    clock.advance(minutes=21)
    assert len(urge(ctx, view.id, ADMIN)) == 2
    assert [d.details["action"] for d in _denials(ctx)] == ["urge"]


def test_cc_is_a_read_only_grant_listed_under_cc_to_me(ctx):
    view = start(ctx, "approval")
    reader = dataclasses.replace(STRANGER, username="cc_reader")
    with pytest.raises(PermissionDenied):
        get_task(ctx, view.open_tasks[0].id if view.open_tasks else task_of(ctx, HEAD).id, reader)
    assert cc(ctx, view.id, ALICE, ["cc_reader", "cc_reader"], reason="知悉") == ["cc_reader"]
    assert cc(ctx, view.id, ALICE, ["cc_reader"]) == []
    assert [i.id for i in list_cc(ctx, reader)] == [view.id]
    task = task_of(ctx, HEAD)
    assert get_task(ctx, task.id, reader).task.id == task.id  # may read
    with pytest.raises(PermissionDenied):  # but never act
        complete_task(ctx, task.id, reader, outcome="approve")
    with pytest.raises(PermissionDenied):
        cc(ctx, view.id, reader, ["someone"])
    with pytest.raises(PermissionDenied):
        cc(ctx, view.id, STRANGER, ["x"])


def test_comments_and_attachments(ctx, clock, tmp_path):
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"var_dir": tmp_path,
                                                                             "upload_max_bytes": 1000}))
    view = start(ctx, "approval")
    add_comment(ctx, view.id, ALICE, "请尽快审批")
    task = task_of(ctx, HEAD)
    clock.advance(minutes=1)
    add_comment(ctx, view.id, HEAD, "收到", task_id=task.id)
    assert [c.author for c in list_comments(ctx, view.id, HEAD)] == ["alice", "dr_wang"]
    with pytest.raises(PermissionDenied):
        add_comment(ctx, view.id, STRANGER, "hi")
    meta = add_attachment(ctx, view.id, ALICE, "发票.pdf", PDF)
    assert meta.sha256 and meta.size == len(PDF) and meta.content_type == "application/pdf"
    stored = list((tmp_path / "uploads").rglob("*"))
    assert any(p.is_file() for p in stored) and not any(p.suffix == ".pdf" for p in stored)
    assert read_attachment(ctx, meta.id, HEAD)[1] == PDF
    with pytest.raises(PermissionDenied):
        read_attachment(ctx, meta.id, STRANGER)
    for name, content in [("a.exe", b"MZ..."), ("fake.pdf", b"<html>"), ("big.pdf", b"%PDF-" + b"x" * 2000),
                          ("empty.png", b"")]:
        with pytest.raises(ValidationFailed):
            add_attachment(ctx, view.id, ALICE, name, content)
    assert len(list_attachments(ctx, view.id, ALICE)) == 1


def test_admin_overrides_need_admin_and_a_reason_and_show_in_history(ctx):
    view = start(ctx, "approval")
    task = task_of(ctx, HEAD)
    with pytest.raises(PermissionDenied):
        admin_reassign(ctx, task.id, HEAD, "fin_li", reason="x")
    with pytest.raises(ValidationFailed):
        admin_reassign(ctx, task.id, ADMIN, "fin_li", reason="")
    admin_reassign(ctx, task.id, ADMIN, "fin_li", reason="科主任休假")  # no eligibility check for overrides
    admin_approve(ctx, task.id, ADMIN, reason="电话确认同意", data={"comment": "代批"})
    fin = task_of(ctx, FINANCE)
    admin_skip(ctx, fin.id, ADMIN, reason="财务系统故障")
    assert [n for n, _ in open_nodes(ctx, view.id)] == ["medical_review"]
    admin_reset(ctx, view.id, ADMIN, "dept_review", reason="重新审核")
    assert open_nodes(ctx, view.id) == [("dept_review", "root")]
    overrides = [e.action for e in timeline(ctx, view.id, ALICE) if e.override]
    assert overrides == ["admin.reassign", "admin.approve", "admin.skip", "admin.reset"]
    assert verify_audit_chain(ctx).ok


def test_admin_approve_decides_a_whole_countersign(ctx):
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    complete_task(ctx, task_of(ctx, E1).id, E1, outcome="approve")
    admin_approve(ctx, task_of(ctx, E2).id, ADMIN, reason="专家口头同意")
    assert open_nodes(ctx, view.id) == [("archive", None)]


def test_bulk_reassign_and_bulk_approve(ctx):
    views = [start(ctx, "approval") for _ in range(2)]
    for v in views:
        claim_task(ctx, [t for t in get_instance(ctx, v.id).open_tasks][0].id, HEAD)
    with pytest.raises(PermissionDenied):
        bulk_reassign(ctx, HEAD, "dr_wang", "dr_li", reason="休假")
    moved = bulk_reassign(ctx, ADMIN, "dr_wang", "dr_li", reason="休假")
    assert len(moved) == 2 and all(t.assignee == "dr_li" for t in moved)
    cs = [start(ctx, "countersign", rule="any", signers=["e1"]) for _ in range(2)]
    for v in cs:
        complete_task(ctx, task_of(ctx, E1, v.id).id, E1, outcome="approve")
    archive_ids = [get_instance(ctx, v.id).open_tasks[0].id for v in cs]
    dept = get_instance(ctx, views[0].id).open_tasks[0].id
    results = bulk_approve(ctx, [*archive_ids, dept], ARCHIVIST)
    assert [r.ok for r in results] == [True, True, False]
    assert all(get_instance(ctx, v.id).status == "completed" for v in cs)


def test_wrong_state_is_refused(ctx):
    view = start(ctx, "countersign", rule="any", signers=["e1"])
    task = task_of(ctx, E1)
    complete_task(ctx, task.id, E1, outcome="approve")
    with pytest.raises(Conflict):
        admin_skip(ctx, task.id, ADMIN, reason="x")
    complete_task(ctx, task_of(ctx, ARCHIVIST).id, ARCHIVIST, outcome="approve")
    with pytest.raises(Conflict):
        urge(ctx, view.id, ALICE)


def _signers(ctx, instance_id):
    with ctx.db.unit_of_work() as session:
        return [(s.username, s.state) for s in session.scalars(
            select(Signer).where(Signer.instance_id == instance_id).order_by(Signer.position))]


def test_bulk_reassign_moves_pending_slots_only_in_the_admins_institutions_and_audits_them(ctx):
    here = start(ctx, "countersign", rule="sequential", signers=["e1", "dr_wang"])
    there = start_instance(ctx, "countersign", initiator="alice", institution="h2",
                           data={"rule": "sequential", "signers": ["e1", "dr_wang"]})
    complete_task(ctx, there.open_tasks[0].id, ALICE, data=VALID)
    assert bulk_reassign(ctx, ADMIN, "dr_wang", "dr_li", reason="休假") == []  # no open task, one waiting slot
    assert _signers(ctx, here.id) == [("e1", "open"), ("dr_li", "pending")]
    assert _signers(ctx, there.id) == [("e1", "open"), ("dr_wang", "pending")]  # h2 is not root's domain
    [moved] = [e for e in timeline(ctx, here.id, ADMIN) if e.action == "admin.reassign"]
    assert moved.override and moved.reason == "休假"
    assert not [e for e in timeline(ctx, there.id, ALICE) if e.action == "admin.reassign"]
    complete_task(ctx, task_of(ctx, E1, here.id).id, E1, outcome="approve")
    assert open_nodes(ctx, here.id) == [("cs_seq", "dr_li")]


def test_bulk_reassign_refuses_to_give_someone_a_second_vote(ctx):
    view = start(ctx, "countersign", rule="sequential", signers=["dr_li", "dr_wang"])
    with pytest.raises(Conflict, match="already holds a vote"):
        bulk_reassign(ctx, ADMIN, "dr_wang", "dr_li", reason="休假")
    assert _signers(ctx, view.id) == [("dr_li", "open"), ("dr_wang", "pending")]  # nothing moved


@pytest.mark.commits
def test_two_simultaneous_urges_pass_the_rate_limit_once(ctx, monkeypatch):
    if not ctx.db.is_postgres:
        pytest.skip("SQLite serializes whole write transactions (BEGIN IMMEDIATE): urges cannot overlap there")
    view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    barrier, local, results = threading.Barrier(2, timeout=10), threading.local(), []
    real_notify = reminders.notify

    def notify_once_both_have_read(*args, **kwargs):
        # Both commands have read "not urged recently" before either writes: the race to close.
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(reminders, "notify", notify_once_both_have_read)

    def attempt(subject):
        try:
            results.append(len(urge(ctx, view.id, subject, reason="急")))
        except RateLimited:
            results.append("rate_limited")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(s,)) for s in (ALICE, ADMIN)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == [2, "rate_limited"]
    with ctx.db.unit_of_work() as session:
        urges = session.scalars(select(AuditRecord).where(AuditRecord.instance_id == view.id,
                                                          AuditRecord.action == "task.urge")).all()
    assert len(urges) == 2 and verify_audit_chain(ctx).ok


def test_an_urged_task_is_urgent_in_the_inbox_and_the_urgency_filter_finds_it(ctx):
    plain, urged, critical = (start(ctx, "approval", priority=p) for p in (0, 0, 2))
    for view in (urged, critical):
        urge(ctx, view.id, ALICE, reason="急用")
    rows = {r.instance_id: (r.urgency, r.urged) for r in inbox_page(ctx, HEAD).rows}
    # urged: at least 紧急 (urgent), and a 特急 (critical) task stays critical
    assert rows == {plain.id: (0, False), urged.id: (1, True), critical.id: (2, True)}

    def found(level, tab="todo", subject=HEAD):
        return [r.instance_id for r in inbox_page(ctx, subject, InboxQuery(tab=tab, urgency=level)).rows]

    assert (found(0), found(1), found(2)) == ([plain.id], [urged.id], [critical.id])
    assert found(1, tab="mine", subject=ALICE) == [urged.id]  # the applicant's own list too
    by_urgency = inbox_page(ctx, HEAD, InboxQuery(sort="urgency")).rows
    assert [r.instance_id for r in by_urgency] == [critical.id, urged.id, plain.id]
