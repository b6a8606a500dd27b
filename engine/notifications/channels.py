"""HTTP delivery channels (SMS gateway, WeCom robot, DingTalk robot), executed by `notify` jobs.

The worker retries a job whose handler raises, so a channel that is down loses nothing.
Tests and deployments can swap the HTTP transport through `ctx.extras["http_post"]`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from engine.jobs.queue import job_handler
from engine.models import Job

log = logging.getLogger("engine.notify")
HttpPost = Callable[[str, dict[str, Any]], int]  # (url, json) -> HTTP status
KNOWN_CHANNELS = ("sms", "wecom", "dingtalk")


class DeliveryFailed(Exception):
    """The channel refused or was unreachable; the job is retried."""


def payload_for(channel: str, title: str, body: str, recipients: list[str]) -> dict[str, Any]:
    """The JSON body each channel expects (robot webhooks share the text message shape)."""
    text = f"{title}\n{body}"
    if channel in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": text}}
    return {"to": recipients, "content": text}


def _httpx_post(url: str, body: dict[str, Any]) -> int:
    return httpx.post(url, json=body, timeout=10).status_code


@job_handler("notify")
def deliver(ctx: Any, job: Job) -> None:
    """Send one channel message. Raises DeliveryFailed (retried by the worker) on a non-2xx answer."""
    channel = job.payload["channel"]
    url = ctx.settings.notify_channels.get(channel)
    if not url:
        log.warning("channel not configured", extra={"channel": channel})
        return
    post: HttpPost = ctx.extras.get("http_post") or _httpx_post
    try:
        status = post(url, payload_for(channel, job.payload["title"], job.payload["body"],
                                       job.payload.get("recipients", [])))
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{channel}: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{channel}: HTTP {status}")


def _parse(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def after_quiet_hours(now: datetime, quiet_hours: str, timezone: str) -> datetime:
    """`now` outside the quiet window, else the window's end (local time, e.g. "22:00-07:00")."""
    if not quiet_hours:
        return now
    start, end = _parse(quiet_hours)
    local = now.astimezone(ZoneInfo(timezone))
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return now
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=local.tzinfo).astimezone(now.tzinfo)
