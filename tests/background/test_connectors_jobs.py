"""Jobs and service-task connectors against the fake systems: after-commit, retries, incidents, leases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import (
    Subject,
    get_instance,
    list_incidents,
    retry_incident,
    retry_incidents,
    run_due_jobs,
    skip_incident,
    start_instance,
)
from engine.errors import ScriptError, ValidationFailed
from engine.jobs.queue import enqueue
from engine.jobs.worker import claim_jobs, run_job
from engine.models import AuditRecord, Job
from engine.service_tasks import job_params
from tests.background.conftest import deploy_bg

FINANCE = Subject("fin_li", {"h1": frozenset({"finance"})})


def _start(ctx, order="O-1", **data):
    deploy_bg(ctx, "bg_connector.bpmn")
    return start_instance(ctx, "bg_connector", initiator="alice", institution="h1", business_key=order,
                          data={"order_id": order, "amount": 12.5, **data})


def _jobs(ctx, kind="connector"):
    with ctx.db.unit_of_work() as s:
        return list(s.scalars(select(Job).where(Job.kind == kind)).all())


def _audit_actions(ctx):
    with ctx.db.unit_of_work() as s:
        return [r.action for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()]


def test_connector_result_lands_in_result_variable(bg, fakes):
    view = _start(bg)
    assert view.open_tasks == [] and fakes["payment"].calls() == []  # nothing called inside the command
    assert run_due_jobs(bg, "w1") == 1
    [call] = fakes["payment"].calls("/refunds")
    assert call["json"]["amount"] == 1250 and call["headers"]["idempotency-key"] == f"{view.id}:" + call[
        "headers"]["idempotency-key"].split(":")[1]
    after = get_instance(bg, view.id, with_data=True)
    assert [t.node_id for t in after.open_tasks] == ["check"]
    assert after.data["refund_result"]["status"] == "processing"


def test_rolled_back_command_leaves_no_job(bg):
    deploy_bg(bg, "bg_connector.bpmn")
    with pytest.raises(RuntimeError):
        def command(session):
            enqueue(session, "connector", {"x": 1}, run_at=bg.clock.now())
            raise RuntimeError("boom")
        bg.db.run(command)
    assert _jobs(bg) == []
    deploy_bg(bg, "bg_rollback.bpmn")  # the connector branch is reached, then a script on the other fails
    with pytest.raises(ScriptError):
        start_instance(bg, "bg_rollback", initiator="alice", institution="h1", data={"divisor": 0})
    assert run_due_jobs(bg, "w1") == 0 and _jobs(bg) == []
    start_instance(bg, "bg_rollback", initiator="alice", institution="h1", data={"divisor": 1})
    assert len(_jobs(bg)) == 1


def test_bad_input_parameter_is_an_incident_without_retries(bg, fakes):
    deploy_bg(bg, "bg_connector.bpmn")
    start_instance(bg, "bg_connector", initiator="alice", institution="h1", data={"order_id": "O-9"})
    run_due_jobs(bg, "w1")
    [incident] = list_incidents(bg)
    assert incident.attempts == 1 and "amount" in incident.error and fakes["payment"].calls() == []


def test_500_retries_with_backoff_then_incident_then_retry(bg, fakes, clock):
    fakes["payment"].fail_next = 3
    view = _start(bg)
    assert run_due_jobs(bg, "w1") == 1
    [job] = _jobs(bg)
    assert (job.status, job.attempts) == ("pending", 1)
    assert (job.run_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).total_seconds() == 10
    assert run_due_jobs(bg, "w1") == 0  # not due yet: back-off
    clock.advance(seconds=10)
    assert run_due_jobs(bg, "w1") == 1
    [job] = _jobs(bg)
    assert (job.run_at.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).total_seconds() == 20
    clock.advance(seconds=20)
    run_due_jobs(bg, "w1")
    [job] = _jobs(bg)
    assert job.status == "failed" and job.attempts == 3
    [incident] = list_incidents(bg)
    assert incident.connector == "payment.refund" and incident.attempts == 3 and incident.node_id == "refund"
    assert incident.last_response["status"] == 500 and "500" in incident.error
    assert get_instance(bg, view.id).status == "error"

    retried = retry_incident(bg, incident.id, actor="admin", reason="渠道已恢复")
    assert retried.status == "retried" and get_instance(bg, view.id).status == "running"
    assert run_due_jobs(bg, "w1") == 1
    assert [t.node_id for t in get_instance(bg, view.id).open_tasks] == ["check"]
    assert list_incidents(bg) == [] and "incident.retry" in _audit_actions(bg)


def test_timeout_then_skip_with_reason_is_audited(bg, fakes, clock):
    fakes["payment"].delay = 1.5  # the client gives up after 0.5 s
    view = _start(bg)
    for _ in range(3):
        run_due_jobs(bg, "w1")
        clock.advance(seconds=60)
    [incident] = list_incidents(bg)
    assert incident.last_response == {"error": "timeout"} and "超时" in incident.error
    with pytest.raises(ValidationFailed):
        skip_incident(bg, incident.id, actor="admin", reason=" ")
    skipped = skip_incident(bg, incident.id, actor="admin", reason="线下已退款")
    assert skipped.status == "skipped" and skipped.reason == "线下已退款"
    after = get_instance(bg, view.id, with_data=True)
    assert after.status == "running" and [t.node_id for t in after.open_tasks] == ["check"]
    assert after.data["refund_result"] == {"skipped": True, "reason": "线下已退款"}
    assert {"incident.skip", "connector.skip"} <= set(_audit_actions(bg))
    assert _jobs(bg)[0].status == "cancelled"


def test_bulk_retry_by_connector_since(bg, fakes, clock):
    fakes["payment"].fail_next = 100
    since = clock.now()
    for order in ("O-1", "O-2", "O-3"):
        _start(bg, order)
    for _ in range(3):
        run_due_jobs(bg, "w1")
        clock.advance(seconds=60)
    assert len(list_incidents(bg, connector="payment.refund", since=since)) == 3
    fakes["payment"].fail_next = 0
    assert retry_incidents(bg, actor="admin", connector="payment.refund", since=since, reason="bulk") == 3
    assert run_due_jobs(bg, "w1") == 3
    assert list_incidents(bg) == [] and len(fakes["payment"].effects) == 3


def test_worker_dies_mid_job_rerun_after_lease_once_effect_once(bg, fakes, clock):
    view = _start(bg)
    [job] = claim_jobs(bg, "worker-A", limit=1)
    # worker A calls the payment platform, then dies before recording anything
    from engine.connectors import call_connector
    call_connector(bg, "payment.refund", job_params(bg, job.payload),
                   idempotency_key=f"{view.id}:{job.payload['task_id']}")
    assert run_due_jobs(bg, "worker-B") == 0  # the lease still holds
    clock.advance(seconds=61)
    assert run_due_jobs(bg, "worker-B") == 1
    assert len(fakes["payment"].calls("/refunds")) == 2 and len(fakes["payment"].effects) == 1
    [done] = _jobs(bg)
    assert done.status == "done" and done.attempts == 2
    assert [t.node_id for t in get_instance(bg, view.id).open_tasks] == ["check"]
    assert run_job(bg, job, "worker-A") == "done"  # A wakes up: its late finish cannot run the step again
    assert len(get_instance(bg, view.id).open_tasks) == 1


def test_connector_without_url_is_an_incident_at_once(bg, fakes):
    from tests.background.conftest import with_settings
    ctx = with_settings(bg, connector_urls={})
    _start(ctx)
    run_due_jobs(ctx, "w1")
    [incident] = list_incidents(ctx)
    assert incident.attempts == 1 and "HWF_CONNECTOR_URLS" in incident.error


@pytest.mark.commits
def test_two_workers_never_run_the_same_job(bg, fakes):
    import threading

    deploy_bg(bg, "bg_connector.bpmn")
    for n in range(12):
        start_instance(bg, "bg_connector", initiator="alice", institution="h1", business_key=f"O-{n}",
                       data={"order_id": f"O-{n}", "amount": 1})
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def claim(worker):
        barrier.wait()
        claimed[worker] = [j.id for j in claim_jobs(bg, worker, limit=12)]

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [job_id for ids in claimed.values() for job_id in ids]
    assert len(every) == len(set(every)) == 12
    with bg.db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.status == "running")) == 12


@pytest.mark.commits
def test_job_is_invisible_to_workers_until_commit(bg):
    seen = []
    with bg.db.unit_of_work() as session:
        enqueue(session, "connector_call", {"connector": "notify.sms", "params": {}}, run_at=bg.clock.now())
        raw = bg.db.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SELECT count(*) FROM jobs")
            seen.append(cur.fetchone()[0])
        finally:
            raw.close()
    assert seen == [0]
    assert len(_jobs(bg, "connector_call")) == 1
