"""`http.request`: a generic call to an allowed host (parameters url, method, json, headers)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from engine.connectors import connector
from engine.connectors.base import ConnectorError, SystemClient


@connector("http.request")
def request(client: SystemClient, params: dict[str, Any]) -> Any:
    """Only hosts in `connector_http_allowed_hosts` or of a configured system may be called (no SSRF)."""
    url = str(params.get("url", ""))
    allowed = set(client.settings.connector_http_allowed_hosts)
    allowed |= {urlsplit(u).netloc for u in client.settings.connector_urls.values()}
    if urlsplit(url).scheme not in ("http", "https") or urlsplit(url).netloc not in allowed:
        raise ConnectorError(f"不允许的地址 (host not allowed): {url}", retryable=False)
    return client.request(str(params.get("method", "POST")).upper(), url, json=params.get("json"),
                          headers={str(k): str(v) for k, v in (params.get("headers") or {}).items()})
