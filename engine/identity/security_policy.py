"""Password, lockout and session policy: `HWF_*` defaults that security administrators change at run time.

Seed 003 asks for these to be configurable (password change period, failures before lockout and the
unlock delay, session idle timeout). An override is one `security_settings` row, changed with a reason
and audited; every process re-reads the rows at most every `policy_reload_seconds`, so a change takes
effect everywhere without a restart. Reads go through the caller's session: on SQLite a second
transaction inside a command would wait for the command's own write lock.
"""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import WILDCARD
from engine.config import Settings
from engine.context import EngineContext
from engine.errors import FieldError, ValidationFailed
from engine.identity._common import PRIVILEGED_ROLES, now, record, require_reason
from engine.identity.policy import require
from engine.models import SecuritySetting
from engine.security.lockout import LockoutPolicy
from engine.security.passwords import PasswordPolicy
from engine.subject import Subject

# name: (lowest, highest) an administrator may set; the seed's requirement is noted where it sets a bound.
LIMITS: dict[str, tuple[int, int]] = {
    "password_min_length": (10, 64),  # 1.7: at least 10 characters
    "password_history": (1, 24),  # 1.9: a new password may not repeat an old one
    "password_max_age_days": (30, 365),  # 1.9: change period from a month to a year
    "password_warn_days": (1, 30),  # 1.9: remind a week before
    "lockout_failures": (3, 10),  # 1.10: e.g. 5 failures
    "lockout_minutes": (1, 30),  # 1.10: unlock after 1-30 minutes
    "session_idle_minutes": (5, 120),  # 1.15: e.g. 15 minutes
    "session_absolute_hours": (1, 24),
    "account_expiry_warn_days": (1, 90),
}
_CACHE = "hwf_security_settings"


def effective_settings(ctx: EngineContext, session: Session) -> Settings:
    """`ctx.settings` with the administrators' overrides applied (re-read at most every reload interval)."""
    cached = ctx.extras.get(_CACHE)
    moment = time.monotonic()
    if cached and cached[0] is ctx.settings and moment - cached[1] < ctx.settings.policy_reload_seconds:
        return cached[2]
    overrides = {name: value for name, value in session.execute(
        select(SecuritySetting.name, SecuritySetting.value)) if name in LIMITS}
    settings = ctx.settings.model_copy(update=overrides) if overrides else ctx.settings
    ctx.extras[_CACHE] = (ctx.settings, moment, settings)
    return settings


def password_policy(ctx: EngineContext, session: Session) -> PasswordPolicy:
    s = effective_settings(ctx, session)
    return PasswordPolicy(min_length=s.password_min_length, history=s.password_history,
                          max_age_days=s.password_max_age_days, warn_days=s.password_warn_days)


def lockout_policy(ctx: EngineContext, session: Session) -> LockoutPolicy:
    s = effective_settings(ctx, session)
    return LockoutPolicy(max_failures=s.lockout_failures, lock_minutes=s.lockout_minutes,
                         reset_minutes=s.lockout_minutes)


def _view(settings: Settings) -> dict[str, Any]:
    return {
        **{name: getattr(settings, name) for name in LIMITS},
        "password_min_classes": 3,
        "api_signature_max_age_seconds": settings.api_signature_max_age_seconds,
        "totp_required_roles": sorted(PRIVILEGED_ROLES),
        "sso_enabled": bool(settings.sso_secret),
    }


def security_settings(ctx: EngineContext, subject: Subject) -> dict[str, Any]:
    """The effective password, lockout and session policy (``security:read`` on ``*``)."""
    require(ctx, subject, WILDCARD, "security", "read", command="security_settings")
    with ctx.db.unit_of_work() as session:
        ctx.extras.pop(_CACHE, None)
        return _view(effective_settings(ctx, session))


def _checked(changes: dict[str, Any]) -> dict[str, int]:
    errors, values = [], {}
    for name, raw in changes.items():
        if name not in LIMITS:
            errors.append(FieldError(f"/{name}", "不能在线修改的设置 (not an editable setting)", "unknown"))
            continue
        low, high = LIMITS[name]
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors.append(FieldError(f"/{name}", "请输入整数 (a whole number)", "type"))
            continue
        if not low <= value <= high:
            errors.append(FieldError(f"/{name}", f"取值范围 {low}–{high} (between {low} and {high})", "range"))
        values[name] = value
    if errors:
        raise ValidationFailed("安全设置有误 (invalid security settings)", errors)
    return values


def update_security_settings(ctx: EngineContext, subject: Subject, changes: dict[str, Any], *,
                             reason: str) -> dict[str, Any]:
    """Change some of the policy values (``security:admin`` on ``*``); audited with old and new values.

    Raises:
        PermissionDenied; ValidationFailed (field errors: unknown name, not a number, out of range, no reason).
    """
    require(ctx, subject, WILDCARD, "security", "admin", command="update_security_settings")
    reason = require_reason(reason)
    values = _checked(changes)
    with ctx.db.unit_of_work() as session:
        before = effective_settings(ctx, session)
        changed = {n: [getattr(before, n), v] for n, v in values.items() if getattr(before, n) != v}
        for name, value in values.items():
            session.merge(SecuritySetting(name=name, value=value, updated_by=subject.username, updated_at=now(ctx)))
        record(ctx, session, actor=subject.username, action="security.settings", reason=reason,
               details={"changed": changed})
        session.flush()
        ctx.extras.pop(_CACHE, None)
        return _view(effective_settings(ctx, session))
