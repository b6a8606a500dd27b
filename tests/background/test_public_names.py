"""Pin the background-work names of the engine's public API."""
from __future__ import annotations

import engine

BACKGROUND = {
    "DeliveryResult", "IncidentView", "InlineWorker", "WebhookView", "create_webhook", "delete_webhook",
    "deliver_message", "escalate_task", "fire_timer", "list_incidents", "list_messages", "list_webhooks",
    "overdue_tasks", "publish_event", "retry_incident", "retry_incidents", "run_due_jobs", "skip_incident",
    "start_inline_worker", "tick", "verify_signature",
}


def test_background_names_are_public():
    assert BACKGROUND <= set(engine.__all__)
    assert all(hasattr(engine, name) for name in BACKGROUND)
