"""Login, sessions and logout (等保三级 account rules, DESIGN.md §7).

A refused login still has to *commit* (failure counter, lock, audit record), so the
transaction returns the refusal and the command raises it after the commit.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import AuthenticationFailed
from engine.identity import login_failures
from engine.identity._common import (
    PRIVILEGED_ROLES,
    aware,
    field_cipher,
    hasher,
    now,
    record,
)
from engine.identity.captcha import passes_captcha
from engine.identity.policy import authorizer, build_subject, policy_checked_at
from engine.identity.security_policy import effective_settings, lockout_policy, password_policy
from engine.identity.session_cache import CACHE_KEY, CachedSession, session_cache, touching
from engine.models import User, UserSession
from engine.security import lockout, totp
from engine.security.passwords import expiry_status, hash_password, needs_rehash, verify_password
from engine.subject import Subject

OK = "ok"
TOTP_REQUIRED = "totp_required"
TOTP_ENROLLMENT_REQUIRED = "totp_enrollment_required"
PASSWORD_CHANGE_REQUIRED = "password_change_required"
TOUCH_EVERY = timedelta(minutes=1)


class LoginRefused(AuthenticationFailed):
    """Login refused; ``code`` is ``bad_credentials``, ``bad_totp``, ``locked``, ``account_expired`` or
    ``inactive`` (the last two only after a correct password, so they do not reveal accounts)."""

    MESSAGES = {
        "bad_credentials": "用户名或密码错误。",
        "bad_totp": "动态验证码错误。",
        "bad_captcha": "请输入图片中的验证码（验证码错误或已失效）。",
        "locked": "账户已锁定，请稍后再试或联系安全管理员解锁。",
        "account_expired": "账户已过有效期，请联系系统管理员。",
        "inactive": "账户已停用，请联系系统管理员。",
    }

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(self.MESSAGES[code], reason=code, **detail)
        self.code = code


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login step.

    Attributes:
        status: ``ok``; ``totp_required`` (resubmit with ``totp_code``, no session yet);
            ``totp_enrollment_required`` (session without privileged roles until TOTP is enrolled);
            ``password_change_required`` (session that may only change the password).
        session_token: Opaque token for the ``hwf_session`` cookie, or None.
        csrf_token: Token the browser must echo on unsafe requests.
        expires_at: Absolute end of the session.
        password_expiry_warning_days: Days left before the password expires, inside the warning window.
        account_expiry_warning_days: Days left before the account expires, inside its warning window.
    """

    status: str
    username: str = ""
    session_token: str | None = None
    csrf_token: str | None = None
    expires_at: datetime | None = None
    password_expiry_warning_days: int | None = None
    account_expiry_warning_days: int | None = None


@dataclass(frozen=True)
class SessionInfo:
    """A live session as seen by one request."""

    subject: Subject
    csrf_token: str
    must_change_password: bool
    expires_at: datetime
    idle_expires_at: datetime
    totp_verified: bool
    totp_enrolled: bool
    session_id: str
    user_id: str


def _dummy_hash(ctx: EngineContext) -> str:
    value = ctx.extras.get("_dummy_hash")
    if value is None:
        value = ctx.extras["_dummy_hash"] = hash_password(secrets.token_urlsafe(16), hasher=hasher(ctx))
    return value


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(session: Session, identifier: str, *, for_update: bool = False) -> User | None:
    """User by username or employee number (exact)."""
    ident = identifier.strip()
    query = select(User).where(or_(User.username == ident, User.employee_no == ident))
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def needs_second_factor(ctx: EngineContext, session: Session, user: User) -> bool:
    """Privileged roles need TOTP; the demo exemption only counts in development."""
    if user.totp_exempt and ctx.settings.environment == "development":
        return False
    subject = build_subject(ctx, session, user.username)
    return any(roles & PRIVILEGED_ROLES for roles in subject.roles.values())


def _days_left(until: datetime, at: datetime) -> int:
    return max(0, math.ceil((until - at).total_seconds() / 86400))


def record_failed_attempt(
    ctx: EngineContext, session: Session, user: User, at: datetime, reason: str, ip: str
) -> LoginRefused:
    policy = lockout_policy(ctx, session)
    state, decision = lockout.record_failure(
        lockout.LoginFailures(user.failures, aware(user.last_failure_at)), at, policy
    )
    user.failures, user.last_failure_at, user.locked_until = (
        state.failures,
        state.last_failure_at,
        decision.locked_until,
    )
    return _refused_after_failure(ctx, session, user.username, code=reason, reason=reason, decision=decision,
                                  details={"ip": ip}, failed={"failures": state.failures})


def _refused_after_failure(
    ctx: EngineContext, session: Session, actor: str, *, code: str, reason: str, decision: lockout.LockoutDecision,
    details: dict[str, Any], failed: dict[str, Any],
) -> LoginRefused:
    """Audit a failed attempt (and the lockout it may cause) and say what the caller is told."""
    record(ctx, session, actor=actor, action="login.failed", reason=reason, details={**details, **failed})
    if decision.locked:
        record(ctx, session, actor=actor, action="account.locked", reason="连续登录失败",
               details={**details, "locked_until": decision.locked_until.isoformat()})
        return LoginRefused("locked", locked_until=decision.locked_until.isoformat())
    return LoginRefused(code, captcha_required=decision.captcha_required, attempts_left=decision.attempts_left)


def open_session(
    ctx: EngineContext, session: Session, user: User, at: datetime, *, ip: str, totp_verified: bool, via: str
) -> tuple[str, UserSession]:
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=at,
        last_seen_at=at,
        ip=ip[:64],
        totp_verified=totp_verified,
        via=via,
        expires_at=at + timedelta(hours=effective_settings(ctx, session).session_absolute_hours),
    )
    session.add(row)
    session.flush()
    return token, row


def _refuse_unknown(
    ctx: EngineContext, session: Session, identifier: str, password: str, ip: str,
    captcha: tuple[str | None, str | None],
) -> LoginRefused:
    """An identifier with no account gets the answers a real account with a wrong password would get:
    captcha after the first failure, ``bad_captcha``, lockout — at the same cost (a dummy hash check)."""
    at, policy, key = now(ctx), lockout_policy(ctx, session), login_failures.identifier_key(ctx, identifier)
    stored = login_failures.load(session, key)
    decision = lockout.assess(stored, at, policy)
    details = {"identifier": identifier.strip()[:64], "ip": ip}
    if decision.locked:
        record(ctx, session, actor="anonymous", action="login.refused", reason="locked", details=details)
        return LoginRefused("locked", locked_until=decision.locked_until.isoformat())
    if decision.captcha_required and not passes_captcha(ctx, session, *captcha):
        code = "bad_captcha"
    else:
        verify_password(_dummy_hash(ctx), password, hasher=hasher(ctx))  # same cost as a real check
        code = "bad_credentials"
    state, decision = lockout.record_failure(stored, at, policy)
    login_failures.store(session, key, state, at, policy)
    return _refused_after_failure(ctx, session, "anonymous", code=code, reason="unknown_user", decision=decision,
                                  details=details, failed={"code": code, "failures": state.failures})


def _login_tx(
    ctx: EngineContext, session: Session, identifier: str, password: str, ip: str, totp_code: str | None,
    captcha: tuple[str | None, str | None],
) -> LoginResult | LoginRefused:
    at = now(ctx)
    user = find_user(session, identifier, for_update=True)
    if user is None:
        return _refuse_unknown(ctx, session, identifier, password, ip, captcha)
    decision = lockout.assess(
        lockout.LoginFailures(user.failures, aware(user.last_failure_at)), at, lockout_policy(ctx, session)
    )
    if decision.locked:
        record(ctx, session, actor=user.username, action="login.refused", reason="locked", details={"ip": ip})
        return LoginRefused("locked", locked_until=decision.locked_until.isoformat())
    if decision.captcha_required and not passes_captcha(ctx, session, *captcha):
        return record_failed_attempt(ctx, session, user, at, "bad_captcha", ip)
    if not verify_password(user.password_hash, password, hasher=hasher(ctx)):
        return record_failed_attempt(ctx, session, user, at, "bad_credentials", ip)
    for refused, code in (
        (not user.active, "inactive"),
        (user.expires_at is not None and aware(user.expires_at) <= at, "account_expired"),
    ):
        if refused:
            record(ctx, session, actor=user.username, action="login.refused", reason=code, details={"ip": ip})
            return LoginRefused(code)
    second_factor = needs_second_factor(ctx, session, user)
    totp_verified = not second_factor
    if second_factor and user.totp_secret_enc:
        if not totp_code:
            return LoginResult(status=TOTP_REQUIRED, username=user.username)
        secret = field_cipher(ctx).decrypt(user.totp_secret_enc, context="users.totp_secret")
        step = totp.verify(secret, totp_code, at, user.totp_last_step)
        if step is None:
            return record_failed_attempt(ctx, session, user, at, "bad_totp", ip)
        user.totp_last_step, totp_verified = step, True
    return _succeed(ctx, session, user, password, at, ip, totp_verified)


def _succeed(
    ctx: EngineContext,
    session: Session,
    user: User,
    password: str,
    at: datetime,
    ip: str,
    totp_verified: bool,
) -> LoginResult:
    policy = password_policy(ctx, session)
    user.failures, user.last_failure_at, user.locked_until = 0, None, None
    user.login_count += 1
    user.last_login_at = at
    if needs_rehash(user.password_hash, hasher=hasher(ctx)):
        user.password_hash = hash_password(password, hasher=hasher(ctx))
    weak = bool(policy.check(password, user.username))
    age = expiry_status(aware(user.password_changed_at), at, policy)
    if weak or age == "expired":
        user.must_change_password = True
    warn_days = None
    if age == "warn" and user.password_changed_at is not None:
        warn_days = _days_left(aware(user.password_changed_at) + timedelta(days=policy.max_age_days), at)
    account_warn = None
    if user.expires_at is not None and aware(user.expires_at) - at <= timedelta(
        days=effective_settings(ctx, session).account_expiry_warn_days
    ):
        account_warn = _days_left(aware(user.expires_at), at)
    token, row = open_session(ctx, session, user, at, ip=ip, totp_verified=totp_verified, via="password")
    status = (
        PASSWORD_CHANGE_REQUIRED
        if user.must_change_password
        else TOTP_ENROLLMENT_REQUIRED
        if not totp_verified
        else OK
    )
    record(
        ctx,
        session,
        actor=user.username,
        action="login.success",
        details={
            "ip": ip,
            "session_id": row.id,
            "status": status,
            "weak_password": weak,
            "password_age": age,
        },
    )
    return LoginResult(
        status=status,
        username=user.username,
        session_token=token,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
        password_expiry_warning_days=warn_days,
        account_expiry_warning_days=account_warn,
    )


def login(
    ctx: EngineContext, identifier: str, password: str, *, ip: str, totp_code: str | None = None,
    captcha_id: str | None = None, captcha_answer: str | None = None,
) -> LoginResult:
    """Log in with username or employee number and password (plus TOTP for privileged roles).

    Args:
        ctx: Engine context.
        identifier: Username or employee number (工号).
        password: Plain password (never logged or stored).
        ip: Client address, recorded on the session and in the audit trail.
        totp_code: Six-digit code, required when the result said ``totp_required``.
        captcha_id, captcha_answer: A challenge from ``issue_captcha`` and what the user read, required
            after a failed attempt (``captcha_required``); checked before the password, used once.

    Returns:
        The :class:`LoginResult`; see its ``status``.

    Raises:
        LoginRefused: ``bad_credentials`` (with ``captcha_required``/``attempts_left``), ``bad_captcha``
            (missing or wrong captcha; counts as a failed attempt), ``bad_totp``,
            ``locked`` (with ``locked_until``), ``account_expired`` or ``inactive``.
    """
    authorizer(ctx)  # refresh the policy before the transaction (see policy.loaded_authorizer)
    outcome = ctx.db.run(lambda s: _login_tx(ctx, s, identifier, password, ip, totp_code,
                                             (captcha_id, captcha_answer)))
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


def end_session(
    ctx: EngineContext, session: Session, row: UserSession, at: datetime, reason: str, actor: str
) -> None:
    row.ended_at, row.end_reason = at, reason
    record(ctx, session, actor=actor, action=f"session.{reason}", details={"session_id": row.id})


# Every request resolves its session: the session row and its user in one statement, built once.
_SESSION_AND_USER = (select(UserSession, User).join(User, User.id == UserSession.user_id)
                     .where(UserSession.token_hash == bindparam("token_hash")))


NEEDS_WRITE = object()  # _resolve_tx in a read-only transaction found the session must be touched or ended


def _ending(user: User, row: UserSession, at: datetime, idle_end: datetime) -> str | None:
    if not user.active or (user.expires_at is not None and aware(user.expires_at) <= at):
        return "user_disabled"
    if at >= idle_end:
        return "idle_timeout"
    if at >= aware(row.expires_at):
        return "absolute_timeout"
    return None


def _resolve_tx(
    ctx: EngineContext, session: Session, token: str, *, writable: bool
) -> tuple[SessionInfo, datetime] | object | None:
    """The session and the moment its answer stops holding without a write (next touch, an end)."""
    found = session.execute(_SESSION_AND_USER, {"token_hash": token_hash(token)}).first()
    if found is None or found[0].ended_at is not None:
        return None
    row, user = found
    at = now(ctx)
    idle_end = aware(row.last_seen_at) + timedelta(minutes=effective_settings(ctx, session).session_idle_minutes)
    ending = _ending(user, row, at, idle_end)
    touch = at - aware(row.last_seen_at) >= TOUCH_EVERY
    if (ending or touch) and not writable:
        return NEEDS_WRITE
    if ending:
        end_session(ctx, session, row, at, ending, user.username)
        return None
    last_seen = aware(row.last_seen_at)
    if touch:
        row.last_seen_at = last_seen = at
        idle_end = at + timedelta(minutes=effective_settings(ctx, session).session_idle_minutes)
    must_change = user.must_change_password and row.via == "password"
    subject = build_subject(
        ctx,
        session,
        user.username,
        user.display_name,
        no_roles=must_change,
        withheld=frozenset() if row.totp_verified else PRIVILEGED_ROLES,
    )
    info = SessionInfo(
        subject=subject,
        csrf_token=row.csrf_token,
        must_change_password=must_change,
        expires_at=aware(row.expires_at),
        idle_expires_at=idle_end,
        totp_verified=row.totp_verified,
        totp_enrolled=user.totp_secret_enc is not None,
        session_id=row.id,
        user_id=user.id,
    )
    ends = [last_seen + TOUCH_EVERY, idle_end, info.expires_at]
    if user.expires_at is not None:
        ends.append(aware(user.expires_at))
    return info, min(ends)


def cached_session(ctx: EngineContext, token: str | None) -> SessionInfo | None:
    """The live session for this token if this process resolved it in the last moment; no I/O.

    None means "not known here": call :func:`resolve_session`. When a cached answer is used is set out in
    ``engine/identity/session_cache.py`` (at most ``session_cache_seconds`` old, roles no staler than
    the policy, dropped on any identity write in this process, never past the next ``last_seen`` write or
    the session's end).
    """
    cache = ctx.extras.get(CACHE_KEY)
    authz = ctx.extras.get("authorizer")
    if not token or cache is None or authz is None:
        return None
    return cache.get(token_hash(token), now(ctx), time.monotonic(), ctx.settings.session_cache_seconds,
                     ctx.settings.policy_reload_seconds, authz.policy_version)


def resolve_session(ctx: EngineContext, token: str | None) -> SessionInfo | None:
    """Look up a session token for one request, enforcing idle and absolute timeouts.

    ``last_seen`` is written at most once a minute. A session of a user who was deactivated or
    whose account expired ends immediately. Privileged roles are withheld until the session's
    TOTP is verified; no roles at all while a password change is pending. A live session is kept for
    :func:`cached_session`.

    Args:
        ctx: Engine context.
        token: Value of the ``hwf_session`` cookie.

    Returns:
        The session, or None when unknown, ended or timed out (the end is audited once).
    """
    if not token or len(token) > 200:
        return None
    authz = authorizer(ctx)  # the per-request policy refresh (cheap: at most one version read per interval)
    # Taken before the read: a policy reload or an identity write during it makes this answer unusable.
    policy_version, checked_at, cache = authz.policy_version, policy_checked_at(ctx), session_cache(ctx)
    generation, read_at = cache.generation, time.monotonic()
    # Most requests only read; the write (touch or end) happens at most once a minute per session.
    found = ctx.db.read(lambda s: _resolve_tx(ctx, s, token, writable=False))
    if found is NEEDS_WRITE:
        with touching():  # the touch alone changes no answer; an end is dropped from the cache below
            found = ctx.db.run(lambda s: _resolve_tx(ctx, s, token, writable=True))
        if found is None:
            cache.invalidate()
    if found is None:
        return None
    info, good_until = found
    if ctx.settings.session_cache_seconds > 0:
        cache.put(token_hash(token),
                  CachedSession(info, good_until, read_at, checked_at, policy_version, generation))
    return info


def logout(ctx: EngineContext, token: str | None) -> bool:
    """End a session (audited). Returns False when there was no live session."""
    if not token:
        return False

    def tx(session: Session) -> bool:
        row = session.scalars(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()
        if row is None or row.ended_at is not None:
            return False
        user = session.get(User, row.user_id)
        end_session(ctx, session, row, now(ctx), "logout", user.username)
        return True

    return ctx.db.run(tx)
