"""Payment platform: channel refunds (idempotent by request id) and refund status polling."""
from __future__ import annotations

from typing import Any

from engine.connectors import connector
from engine.connectors.base import SystemClient


@connector("payment.refund")
def refund(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /refunds; `refund_request_id` (default: the service task's idempotency key) makes it idempotent."""
    body = {**params, "refund_request_id": params.get("refund_request_id") or client.idempotency_key}
    return client.post("/refunds", body)


@connector("payment.refund_status")
def refund_status(client: SystemClient, params: dict[str, Any]) -> Any:
    """GET /refunds/{refund_request_id} → {"status": "processing" | "succeeded" | "failed"}."""
    return client.get(f"/refunds/{params['refund_request_id']}")
