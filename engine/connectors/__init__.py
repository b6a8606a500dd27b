"""Connector registry: service tasks name a connector (`his.check_archive`), the registry calls it.

Each external system has one module; each connector is a function `(client, params) -> result`
registered with `@connector("system.operation")`. Base URLs, timeouts and retry policy come from
settings (`HWF_CONNECTOR_URLS`, …), so tests register their fake servers the same way production does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.connectors.base import ConnectorError, SystemClient

Connector = Callable[[SystemClient, dict[str, Any]], Any]
_REGISTRY: dict[str, tuple[str, Connector]] = {}


def connector(name: str) -> Callable[[Connector], Connector]:
    """Register a connector under `system.operation`; the system part selects the base URL."""

    def register(func: Connector) -> Connector:
        _REGISTRY[name] = (name.split(".", 1)[0], func)
        return func

    return register


def connector_names() -> list[str]:
    _load_modules()
    return sorted(_REGISTRY)


def call_connector(ctx: Any, name: str, params: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
    """Call a registered connector once (the job worker owns retries).

    Raises:
        ConnectorError: unknown connector, transport failure or an error response.
    """
    _load_modules()
    if name not in _REGISTRY:
        raise ConnectorError(f"未知连接器 (unknown connector): {name}", retryable=False)
    system, func = _REGISTRY[name]
    return func(SystemClient(ctx.settings, system, idempotency_key), params)


def _load_modules() -> None:
    from engine.connectors import clinic, his, http_request, identity, notify, payment  # noqa: F401


__all__ = ["ConnectorError", "SystemClient", "call_connector", "connector", "connector_names"]
