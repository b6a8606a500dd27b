"""HIS / EMR: archived-record check, notifications, exam and bed booking."""
from __future__ import annotations

from typing import Any

from engine.connectors import connector
from engine.connectors.base import SystemClient


@connector("his.check_archive")
def check_archive(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /archive/check → {"found": bool, "record_no": …}."""
    return client.post("/archive/check", params)


@connector("his.notify")
def notify(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /notifications → HIS acknowledges a payment or refund notice."""
    return client.post("/notifications", params)


@connector("his.book_exams")
def book_exams(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /exams/bookings → {"booked": [...]}."""
    return client.post("/exams/bookings", params)


@connector("his.book_bed")
def book_bed(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /beds/bookings → {"booked": bool, "bed_no": …}."""
    return client.post("/beds/bookings", params)
