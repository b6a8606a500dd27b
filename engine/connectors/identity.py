"""Regional identity platform: real-name verification."""
from __future__ import annotations

from typing import Any

from engine.connectors import connector
from engine.connectors.base import SystemClient


@connector("identity.verify")
def verify(client: SystemClient, params: dict[str, Any]) -> Any:
    """POST /identity/verify → {"verified": bool, "reason": …}."""
    return client.post("/identity/verify", params)
