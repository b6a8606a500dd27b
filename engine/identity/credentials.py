"""Self-service credentials: change password, TOTP enrolment and verification, portal SSO."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import AuthenticationFailed, Conflict, NotFound
from engine.identity._common import aware, field_cipher, hasher, now, record, record_now
from engine.identity.nonces import nonce_store
from engine.identity.policy import authorizer
from engine.identity.security_policy import password_policy
from engine.identity.sessions import (
    OK,
    TOTP_ENROLLMENT_REQUIRED,
    TOTP_REQUIRED,
    LoginRefused,
    LoginResult,
    needs_second_factor,
    open_session,
    record_failed_attempt,
    token_hash,
)
from engine.models import User, UserSession
from engine.security import totp
from engine.security.passwords import hash_password, verify_password
from engine.security.tokens import verify_handoff_token
from engine.subject import Subject

TOTP_CONTEXT = "users.totp_secret"


@dataclass(frozen=True)
class TotpEnrollment:
    """Shown once: the secret and the ``otpauth://`` URI for the QR code."""

    secret: str
    provisioning_uri: str


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("用户不存在 (user not found)")
    return user


def set_password(ctx: EngineContext, session: Session, user: User, new_password: str, *, must_change: bool) -> None:
    """Check the policy (history included), store the hash and shift the history."""
    policy = password_policy(ctx, session)
    history = list(user.password_history or ([user.password_hash] if user.password_hash else []))
    policy.ensure_acceptable(
        new_password, user.username, history, hasher=hasher(ctx), pointer="/new_password"
    )
    new_hash = hash_password(new_password, hasher=hasher(ctx))
    user.password_hash = new_hash
    user.password_history = [new_hash, *history][: max(policy.history, 1)]
    user.password_changed_at = now(ctx)
    user.must_change_password = must_change


def change_password(
    ctx: EngineContext,
    subject: Subject,
    current_password: str,
    new_password: str,
    *,
    session_token: str | None = None,
    ip: str = "",
) -> None:
    """Change one's own password (policy: length, classes, no username, not one of the last 5).

    Other sessions of the user end; the current one stays and loses its restriction.

    Raises:
        LoginRefused: The current password is wrong (counts toward the lockout).
        ValidationFailed: The new password breaks the policy (codes ``too_short``, ``reused`` …).
    """

    def tx(session: Session) -> LoginRefused | None:
        user = _user(session, subject.username)
        if not verify_password(user.password_hash, current_password, hasher=hasher(ctx)):
            return record_failed_attempt(ctx, session, user, now(ctx), "bad_credentials", ip)
        set_password(ctx, session, user, new_password, must_change=False)
        keep = token_hash(session_token) if session_token else ""
        session.execute(
            update(UserSession)
            .where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.token_hash != keep
            )
            .values(ended_at=now(ctx), end_reason="password_changed")
        )
        record(ctx, session, actor=user.username, action="password.changed", details={"ip": ip})
        return None

    refused = ctx.db.run(tx)
    if refused is not None:
        raise refused


def enroll_totp(ctx: EngineContext, subject: Subject) -> TotpEnrollment:
    """Start TOTP enrolment: a new secret kept pending until :func:`confirm_totp`.

    Raises:
        Conflict: A second factor is already active (a security admin must reset it first).
    """

    def tx(session: Session) -> TotpEnrollment:
        user = _user(session, subject.username)
        if user.totp_secret_enc:
            raise Conflict("已绑定动态验证码；如需更换请联系安全管理员重置。")
        secret = totp.new_secret()
        user.totp_pending_enc = field_cipher(ctx).encrypt(secret, context=TOTP_CONTEXT)
        record(ctx, session, actor=user.username, action="totp.enroll_started")
        return TotpEnrollment(secret, totp.provisioning_uri(secret, user.employee_no))

    return ctx.db.run(tx)


def _mark_verified(session: Session, session_token: str | None, user: User) -> None:
    if session_token:
        session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash(session_token), UserSession.user_id == user.id)
            .values(totp_verified=True)
        )


def confirm_totp(
    ctx: EngineContext, subject: Subject, code: str, *, session_token: str | None = None
) -> None:
    """Finish enrolment with a code from the app; the current session counts as verified.

    Raises:
        Conflict: No enrolment pending.
        AuthenticationFailed: Wrong code (``reason='bad_totp'``).
    """

    def tx(session: Session) -> bool:
        user = _user(session, subject.username)
        if not user.totp_pending_enc:
            raise Conflict("没有待确认的动态验证码绑定。")
        secret = field_cipher(ctx).decrypt(user.totp_pending_enc, context=TOTP_CONTEXT)
        step = totp.verify(secret, code, now(ctx), None)
        if step is None:
            return False
        user.totp_secret_enc, user.totp_pending_enc, user.totp_last_step = (
            field_cipher(ctx).encrypt(secret, context=TOTP_CONTEXT),
            None,
            step,
        )
        _mark_verified(session, session_token, user)
        record(ctx, session, actor=user.username, action="totp.enrolled")
        return True

    if not ctx.db.run(tx):
        raise AuthenticationFailed("动态验证码错误。", reason="bad_totp")


def verify_session_totp(
    ctx: EngineContext, subject: Subject, code: str, *, session_token: str, ip: str = ""
) -> None:
    """Upgrade a session opened without the second factor (e.g. by SSO) with a TOTP code.

    Raises:
        LoginRefused: ``bad_totp`` (counts toward the lockout) or ``locked``.
        Conflict: No second factor enrolled.
    """

    def tx(session: Session) -> LoginRefused | None:
        user = _user(session, subject.username)
        if not user.totp_secret_enc:
            raise Conflict("尚未绑定动态验证码。")
        secret = field_cipher(ctx).decrypt(user.totp_secret_enc, context=TOTP_CONTEXT)
        step = totp.verify(secret, code, now(ctx), user.totp_last_step)
        if step is None:
            return record_failed_attempt(ctx, session, user, now(ctx), "bad_totp", ip)
        user.totp_last_step = step
        _mark_verified(session, session_token, user)
        record(ctx, session, actor=user.username, action="totp.verified", details={"ip": ip})
        return None

    refused = ctx.db.run(tx)
    if refused is not None:
        raise refused


def sso_login(ctx: EngineContext, token: str, *, ip: str) -> LoginResult:
    """Exchange a portal hand-off token (engine/security/tokens.py) for a session.

    The token is HMAC-signed with ``settings.sso_secret`` for audience ``settings.sso_audience``,
    short-lived and single-use (nonce store). Privileged roles still need TOTP on the session.

    Raises:
        AuthenticationFailed: SSO not configured (``reason='sso_disabled'``).
        TokenRejected: Bad, expired or replayed token (``reason`` names it).
        LoginRefused: Unknown employee (``bad_credentials``), ``locked``, ``inactive`` or ``account_expired``.
    """
    if not ctx.settings.sso_secret:
        raise AuthenticationFailed("未启用门户单点登录。", reason="sso_disabled")
    try:
        claims = verify_handoff_token(
            token,
            ctx.settings.sso_secret,
            audience=ctx.settings.sso_audience,
            nonce_store=nonce_store(ctx),
            now=now(ctx).timestamp(),
            max_ttl_seconds=ctx.settings.sso_max_ttl_seconds,
        )
    except AuthenticationFailed as exc:
        record_refusal(ctx, "anonymous", str(exc.detail.get("reason")), ip)
        raise

    authorizer(ctx)  # refresh before the transaction

    def tx(session: Session) -> LoginResult | LoginRefused:
        at = now(ctx)
        user = session.scalars(select(User).where(User.employee_no == claims.employee_no)).first()
        code = (
            "bad_credentials"
            if user is None
            else "inactive"
            if not user.active
            else "account_expired"
            if user.expires_at is not None and aware(user.expires_at) <= at
            else "locked"
            if user.locked_until is not None and aware(user.locked_until) > at
            else None
        )
        if code:
            record(
                ctx,
                session,
                actor=user.username if user else "anonymous",
                action="sso.refused",
                reason=code,
                details={"ip": ip, "employee_no": claims.employee_no},
            )
            return LoginRefused(code)
        second_factor = needs_second_factor(ctx, session, user)
        user.login_count += 1
        user.last_login_at = at
        session_token, row = open_session(
            ctx, session, user, at, ip=ip, totp_verified=not second_factor, via="sso"
        )
        status = (
            OK if not second_factor else TOTP_REQUIRED if user.totp_secret_enc else TOTP_ENROLLMENT_REQUIRED
        )
        record(
            ctx,
            session,
            actor=user.username,
            action="sso.login",
            details={"ip": ip, "session_id": row.id, "status": status},
        )
        return LoginResult(
            status=status,
            username=user.username,
            session_token=session_token,
            csrf_token=row.csrf_token,
            expires_at=row.expires_at,
        )

    outcome = ctx.db.run(tx)
    if isinstance(outcome, LoginRefused):
        raise outcome
    return outcome


def record_refusal(ctx: EngineContext, actor: str, reason: str, ip: str) -> None:
    record_now(ctx, actor=actor, action="access.denied", reason=reason, details={"ip": ip, "via": "sso"})
