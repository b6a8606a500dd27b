"""Shared plumbing of the identity commands: keys, hasher, audit, reasons, time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.errors import FieldError, ValidationFailed
from engine.security.fields import BlindIndex, FieldCipher

#: Three-officer separation (三员分立): one person never holds two of these.
EXCLUSIVE_ADMIN_ROLES = frozenset({"sys_admin", "security_admin", "audit_admin"})
#: Administrator roles (the checklist's 系统管理员、配置管理员、审计管理员, plus the security admin):
#: they need a verified TOTP second factor before they apply to a session, and only a holder of
#: ``admin_role:admin`` (seed: security_admin) may grant or revoke them.
PRIVILEGED_ROLES = EXCLUSIVE_ADMIN_ROLES | {"process_admin"}
MAX_REASON = 1000


def now(ctx: EngineContext) -> datetime:
    """Current time from the context clock, always UTC-aware."""
    value = ctx.clock.now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone columns; treat them as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _dev_key(settings_secret: str, purpose: str) -> str:
    raw = hashlib.sha256(f"hwf-dev:{purpose}:{settings_secret}".encode()).digest()
    return base64.b64encode(raw).decode()


def _parse_keys(setting: str) -> tuple[dict[int, str], int]:
    """``"2:<b64>,1:<b64>"`` (first is current) or a single key (version 1)."""
    keys: dict[int, str] = {}
    current = 0
    for i, item in enumerate(part.strip() for part in setting.split(",") if part.strip()):
        version, sep, key = item.partition(":")
        if not sep:
            version, key = "1", item
        keys[int(version)] = key
        if i == 0:
            current = int(version)
    return keys, current


def field_cipher(ctx: EngineContext) -> FieldCipher:
    """The FieldCipher for this deployment (cached on the context).

    Outside development a missing key is refused by Settings; in development a key is derived
    from the secret key so demo data stays readable across restarts.
    """
    cipher = ctx.extras.get("_field_cipher")
    if cipher is None:
        setting = ctx.settings.field_encryption_key or _dev_key(ctx.settings.secret_key, "field")
        keys, current = _parse_keys(setting)
        cipher = ctx.extras["_field_cipher"] = FieldCipher(keys, current)
    return cipher


def blind_index(ctx: EngineContext) -> BlindIndex:
    """Blind-index hasher; its key is separate from (or derived one-way from) the field key."""
    index = ctx.extras.get("_blind_index")
    if index is None:
        key = ctx.settings.blind_index_key
        if not key:
            base = ctx.settings.field_encryption_key or _dev_key(ctx.settings.secret_key, "field")
            key = base64.b64encode(hmac.new(base.encode(), b"blind-index", hashlib.sha256).digest()).decode()
        index = ctx.extras["_blind_index"] = BlindIndex(key)
    return index


def hasher(ctx: EngineContext) -> PasswordHasher | None:
    """Tests inject a light argon2 hasher via ``ctx.extras['password_hasher']``."""
    return ctx.extras.get("password_hasher")


def require_reason(reason: str | None) -> str:
    """Admin changes must say why (recorded in the audit trail)."""
    text = (reason or "").strip()
    if len(text) < 2:
        raise ValidationFailed(
            "请填写操作原因。", [FieldError("/reason", "管理操作必须填写原因。", "required")]
        )
    return text[:MAX_REASON]


def record(
    ctx: EngineContext,
    session: Session,
    *,
    actor: str,
    action: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit record inside the caller's transaction."""
    audit.append(
        session,
        actor=actor,
        action=action,
        at=now(ctx),
        reason=reason,
        details=details or {},
        )


def record_now(
    ctx: EngineContext, *, actor: str, action: str, reason: str = "", details: dict[str, Any] | None = None
) -> None:
    """Append an audit record in its own transaction (for refusals that roll the command back)."""
    with ctx.db.unit_of_work() as session:
        record(ctx, session, actor=actor, action=action, reason=reason, details=details)
