"""The HTTP client every connector uses: base URL, timeout and idempotency key from settings."""
from __future__ import annotations

import threading
from typing import Any

import httpx

from engine.jobs.errors import JobError

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_CLIENTS: dict[float, httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(timeout: float) -> httpx.Client:
    """One pooled, thread-safe client per timeout (building one costs ~0.2 s: the TLS context)."""
    with _CLIENTS_LOCK:
        if timeout not in _CLIENTS:
            _CLIENTS[timeout] = httpx.Client(timeout=timeout)
        return _CLIENTS[timeout]


class ConnectorError(JobError):
    """A connector call failed; `response` (status, body) is kept on the incident."""


class SystemClient:
    """One call's client for an external system (`his`, `payment`, …).

    Args:
        settings: engine settings (`connector_urls`, `connector_timeout_seconds`).
        system: the system name, the key into `connector_urls`.
        idempotency_key: sent as `Idempotency-Key`; stable across retries of the same service task.
    """

    def __init__(self, settings: Any, system: str, idempotency_key: str | None = None) -> None:
        self.settings = settings
        self.system = system
        self.idempotency_key = idempotency_key

    @property
    def base_url(self) -> str:
        url = self.settings.connector_urls.get(self.system)
        if not url:
            raise ConnectorError(f"未配置 {self.system} 的地址 (HWF_CONNECTOR_URLS lacks {self.system!r})",
                                 retryable=False)
        return url.rstrip("/")

    def request(self, method: str, path_or_url: str, *, json: Any = None, params: dict | None = None,
                headers: dict[str, str] | None = None) -> Any:
        """Send one request and return the decoded JSON body (or text).

        Raises:
            ConnectorError: retryable on timeouts, connection errors, 408/429/5xx; not retryable otherwise.
        """
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.base_url + path_or_url
        sent = {"Accept": "application/json", **(headers or {})}
        if self.idempotency_key:
            sent["Idempotency-Key"] = self.idempotency_key
        try:
            client = shared_client(self.settings.connector_timeout_seconds)
            response = client.request(method, url, json=json, params=params, headers=sent)
        except httpx.TimeoutException as exc:
            raise ConnectorError(f"{self.system} 超时 (timeout): {exc}", response={"error": "timeout"}) from None
        except httpx.TransportError as exc:
            raise ConnectorError(f"{self.system} 连接失败 (transport error): {exc}",
                                 response={"error": type(exc).__name__}) from None
        body = _decode(response)
        if response.status_code >= 400:
            raise ConnectorError(f"{self.system} 返回 {response.status_code}",
                                 retryable=response.status_code in RETRYABLE_STATUS,
                                 response={"status": response.status_code, "body": _clip(body)})
        return body

    def post(self, path: str, json: Any) -> Any:
        return self.request("POST", path, json=json)

    def get(self, path: str, params: dict | None = None) -> Any:
        return self.request("GET", path, params=params)


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _clip(body: Any) -> Any:
    text = body if isinstance(body, str) else None
    return text[:2000] if text is not None else body
