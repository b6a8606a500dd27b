"""Message correlation, buffering with TTL, idempotent delivery and message start events."""
from __future__ import annotations

from engine import deliver_message, get_instance, list_messages, run_due_jobs, start_instance, tick
from tests.background.conftest import deploy_bg


def _start(ctx, key):
    deploy_bg(ctx, "bg_messages.bpmn")
    return start_instance(ctx, "bg_messages", initiator="alice", institution="h1", business_key=key)


def _nodes(ctx, instance_id):
    return [t.node_id for t in get_instance(ctx, instance_id).open_tasks]


def test_message_goes_to_the_instance_with_the_matching_business_key(bg):
    a, b = _start(bg, "BK-A"), _start(bg, "BK-B")
    result = deliver_message(bg, "payment_result", correlation_key="BK-B", payload={"status": "paid"})
    assert result.status == "delivered" and result.instance_ids == [b.id]
    assert _nodes(bg, b.id) == ["upload"] and _nodes(bg, a.id) == []
    data = get_instance(bg, b.id, with_data=True).data
    assert data["payment_result"] == {"status": "paid"}  # stored under the message name
    failed = deliver_message(bg, "payment_result", correlation_key="BK-A", payload={"status": "failed"})
    assert failed.instance_ids == [a.id] and get_instance(bg, a.id).status == "completed"


def test_duplicate_delivery_has_one_effect(bg):
    view = _start(bg, "BK-1")
    first = deliver_message(bg, "payment_result", correlation_key="BK-1", payload={"status": "paid"},
                            idempotency_key="pay-123")
    again = deliver_message(bg, "payment_result", correlation_key="BK-1", payload={"status": "paid"},
                            idempotency_key="pay-123")
    assert again.duplicate and again.message_id == first.message_id and again.status == "delivered"
    assert len(list_messages(bg)) == 1 and _nodes(bg, view.id) == ["upload"]


def test_early_message_is_buffered_and_matched_when_the_instance_waits(bg):
    early = deliver_message(bg, "payment_result", correlation_key="BK-9", payload={"status": "paid"})
    assert early.status == "buffered"
    view = _start(bg, "BK-9")
    assert run_due_jobs(bg, "w") == 1
    assert _nodes(bg, view.id) == ["upload"]
    assert list_messages(bg)[0]["status"] == "delivered"


def test_buffered_message_expires_after_ttl(bg, clock):
    deliver_message(bg, "payment_result", correlation_key="BK-7", payload={"status": "paid"}, ttl_seconds=3600)
    clock.advance(hours=2)
    assert tick(bg)["messages_expired"] == 1
    view = _start(bg, "BK-7")
    run_due_jobs(bg, "w")
    assert _nodes(bg, view.id) == [] and get_instance(bg, view.id).status == "running"
    assert list_messages(bg)[0]["status"] == "expired"


def test_message_start_event_starts_an_instance_with_the_payload_in_data(bg):
    deploy_bg(bg, "bg_message_start.bpmn")
    result = deliver_message(bg, "refund_requested", correlation_key="ORDER-5",
                             payload={"amount": 30, "institution": "h1"}, idempotency_key="rq-5", sender="his")
    assert result.status == "started"
    [instance_id] = result.instance_ids
    view = get_instance(bg, instance_id, with_data=True)
    assert view.business_key == "ORDER-5" and view.institution == "h1" and view.initiator == "his"
    assert view.data["amount"] == 30 and view.data["refund_requested"] == {"amount": 30, "institution": "h1"}
    assert [t.node_id for t in view.open_tasks] == ["cashier_review"]
    assert deliver_message(bg, "refund_requested", correlation_key="ORDER-5", payload={"amount": 30},
                           idempotency_key="rq-5").instance_ids == [instance_id]


def test_declared_correlation_key_expression(bg):
    from engine import deploy
    from tests.background.conftest import DATA

    text = (DATA / "bg_messages.bpmn").read_text().replace(
        'id="bg_messages" name="等待缴费"', 'id="bg_messages_ck" name="等待缴费" hospital:correlationKey="order_no"')
    deploy(bg, {"ck.bpmn": text.encode()}, actor="admin")
    view = start_instance(bg, "bg_messages_ck", initiator="alice", institution="h1", business_key="BK-X",
                          data={"order_no": "PAY-77"})
    early = deliver_message(bg, "payment_result", correlation_key="BK-X", payload={"status": "paid"})
    assert early.status == "buffered"
    assert deliver_message(bg, "payment_result", correlation_key="PAY-77",
                           payload={"status": "paid"}).instance_ids == [view.id]
