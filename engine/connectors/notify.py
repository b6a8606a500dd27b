"""Notifications: patient push (mini-program/SMS), plain SMS, and staff notices (WeCom/DingTalk)."""
from __future__ import annotations

from typing import Any

from engine.connectors import connector
from engine.connectors.base import SystemClient


@connector("notify.patient")
def patient(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /patient-messages with a template name and its fields."""
    return client.post("/patient-messages", params)


@connector("notify.sms")
def sms(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /sms {phone, template, …}."""
    return client.post("/sms", params)


@connector("notify.staff")
def staff(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /staff-messages: SLA escalation notices to the task's candidates."""
    return client.post("/staff-messages", params)
