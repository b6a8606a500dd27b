"""Outpatient clinic scheduling: notify booked patients and release slots of a suspended clinic."""
from __future__ import annotations

from typing import Any

from engine.connectors import connector
from engine.connectors.base import SystemClient


@connector("clinic.notify_patients")
def notify_patients(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /suspensions/notify → {"notified": n}."""
    return client.post("/suspensions/notify", params)


@connector("clinic.release_slots")
def release_slots(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /suspensions/release → {"released": n}."""
    return client.post("/suspensions/release", params)
