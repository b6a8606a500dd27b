"""API clients for external systems: registration, secret rotation, and signed-request authentication.

A client's permissions are Casbin rules on the subject ``client:<key_id>``:
``p, client:<key_id>, <institution|*>, process:<key>, start`` and ``…, message:<name>, send``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.identity._common import field_cipher, now, record, record_now, require_reason
from engine.identity.nonces import nonce_store
from engine.identity.policy import add_rules, authorizer, bump_version, list_rules, remove_rules, require
from engine.identity.views import ApiClientSecret, ApiClientView
from engine.models import ApiClientRecord
from engine.security.signing import ApiClient, SignatureRejected, parse_networks, verify_request
from engine.subject import Subject

SECRET_CONTEXT = "api_clients.secret"
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_-]{2,63}")
_NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def client_subject(key_id: str) -> str:
    return f"client:{key_id}"


def _rules(
    key_id: str, institution: str, process_keys: Sequence[str], message_names: Sequence[str]
) -> list[list[str]]:
    sub = client_subject(key_id)
    return [[sub, institution, f"process:{k}", "start"] for k in process_keys] + [
        [sub, institution, f"message:{m}", "send"] for m in message_names
    ]


def _validate(key_id: str, name: str, networks: Sequence[str], names: Sequence[str]) -> None:
    errors = []
    if not _KEY_RE.fullmatch(key_id or ""):
        errors.append(FieldError("/key_id", "key id 为 3-64 位小写字母、数字、_ 或 -。", "pattern"))
    if not (name or "").strip():
        errors.append(FieldError("/name", "名称必填。", "required"))
    try:
        parse_networks(networks)
    except ValueError:
        errors.append(FieldError("/allowed_networks", "IP 白名单格式错误（示例 10.1.0.0/16）。", "format"))
    if not networks:
        errors.append(FieldError("/allowed_networks", "必须至少配置一个来源地址。", "required"))
    errors += [
        FieldError("/permissions", f"名称无效：{n}", "pattern") for n in names if not _NAME_RE.fullmatch(n)
    ]
    if errors:
        raise ValidationFailed("接口客户端信息有误。", errors)


def _permissions(session: Session, key_id: str) -> list[list[str]]:
    return [r[1:] for r in list_rules(session, "p") if r[1] == client_subject(key_id)]


def create_api_client(
    ctx: EngineContext,
    subject: Subject,
    *,
    key_id: str,
    name: str,
    allowed_networks: Sequence[str],
    process_keys: Sequence[str] = (),
    message_names: Sequence[str] = (),
    institution: str = "*",
    reason: str,
) -> ApiClientSecret:
    """Register an external system (``security:admin`` on ``*``); the secret is returned only here.

    Raises:
        Conflict: The key id exists.
        ValidationFailed: Bad key id, networks or permission names.
    """
    reason = require_reason(reason)
    _validate(key_id, name, allowed_networks, [*process_keys, *message_names])
    require(ctx, subject, "*", "security", "admin", command="create_api_client")
    secret = secrets.token_urlsafe(32)

    def tx(session: Session) -> ApiClientSecret:
        if session.get(ApiClientRecord, key_id) is not None:
            raise Conflict("key id 已存在。")
        session.add(
            ApiClientRecord(
                key_id=key_id,
                name=name.strip(),
                allowed_networks=list(allowed_networks),
                secret_enc=field_cipher(ctx).encrypt(secret, context=SECRET_CONTEXT),
                created_at=now(ctx),
            )
        )
        session.flush()
        add_rules(session, "p", _rules(key_id, institution, process_keys, message_names))
        bump_version(ctx, session)
        record(
            ctx,
            session,
            actor=subject.username,
            action="api_client.created",
            reason=reason,
            details={
                "key_id": key_id,
                "networks": list(allowed_networks),
                "processes": list(process_keys),
                "messages": list(message_names),
                "institution": institution,
            },
        )
        return ApiClientSecret(key_id, secret)

    result = ctx.db.run(tx)
    authorizer(ctx, force=True)
    return result


def rotate_api_client_secret(
    ctx: EngineContext, subject: Subject, key_id: str, *, reason: str
) -> ApiClientSecret:
    """Replace a client's secret (the old one stops working at once); returns the new one once."""
    reason = require_reason(reason)
    require(ctx, subject, "*", "security", "admin", command="rotate_api_client_secret")
    secret = secrets.token_urlsafe(32)

    def tx(session: Session) -> ApiClientSecret:
        row = session.get(ApiClientRecord, key_id)
        if row is None:
            raise NotFound("接口客户端不存在。")
        row.secret_enc = field_cipher(ctx).encrypt(secret, context=SECRET_CONTEXT)
        row.rotated_at = now(ctx)
        record(
            ctx,
            session,
            actor=subject.username,
            action="api_client.rotated",
            reason=reason,
            details={"key_id": key_id},
        )
        return ApiClientSecret(key_id, secret)

    return ctx.db.run(tx)


def set_api_client_active(
    ctx: EngineContext, subject: Subject, key_id: str, active: bool, *, reason: str
) -> ApiClientView:
    """Disable (or re-enable) a client; a disabled client is treated as unknown."""
    reason = require_reason(reason)
    require(ctx, subject, "*", "security", "admin", command="set_api_client_active")

    def tx(session: Session) -> ApiClientView:
        row = session.get(ApiClientRecord, key_id)
        if row is None:
            raise NotFound("接口客户端不存在。")
        row.active = active
        record(
            ctx,
            session,
            actor=subject.username,
            action="api_client.enabled" if active else "api_client.disabled",
            reason=reason,
            details={"key_id": key_id},
        )
        return ApiClientView.of(row, _permissions(session, key_id))

    return ctx.db.run(tx)


def set_api_client_permissions(
    ctx: EngineContext,
    subject: Subject,
    key_id: str,
    *,
    process_keys: Sequence[str],
    message_names: Sequence[str],
    institution: str = "*",
    reason: str,
) -> ApiClientView:
    """Replace the Casbin rules of a client (which processes it may start, which messages it may send)."""
    reason = require_reason(reason)
    _validate(key_id, "x", ["127.0.0.1"], [*process_keys, *message_names])
    require(ctx, subject, "*", "security", "admin", command="set_api_client_permissions")

    def tx(session: Session) -> ApiClientView:
        row = session.get(ApiClientRecord, key_id)
        if row is None:
            raise NotFound("接口客户端不存在。")
        old = _permissions(session, key_id)
        remove_rules(session, "p", [[client_subject(key_id), *r] for r in old])
        add_rules(session, "p", _rules(key_id, institution, process_keys, message_names))
        bump_version(ctx, session)
        record(
            ctx,
            session,
            actor=subject.username,
            action="api_client.permissions",
            reason=reason,
            details={
                "key_id": key_id,
                "before": old,
                "processes": list(process_keys),
                "messages": list(message_names),
                "institution": institution,
            },
        )
        return ApiClientView.of(row, _permissions(session, key_id))

    result = ctx.db.run(tx)
    authorizer(ctx, force=True)
    return result


def list_api_clients(ctx: EngineContext, subject: Subject) -> list[ApiClientView]:
    """Registered clients without secrets (``security:read`` on ``*``)."""
    require(ctx, subject, "*", "security", "read", command="list_api_clients")
    with ctx.db.unit_of_work() as session:
        rows = session.scalars(select(ApiClientRecord).order_by(ApiClientRecord.key_id)).all()
        return [ApiClientView.of(r, _permissions(session, r.key_id)) for r in rows]


def _lookup(ctx: EngineContext, key_id: str) -> ApiClient | None:
    with ctx.db.unit_of_work() as session:
        row = session.get(ApiClientRecord, key_id)
        if row is None:
            return None
        return ApiClient(
            key_id=row.key_id,
            secret=field_cipher(ctx).decrypt(row.secret_enc, context=SECRET_CONTEXT),
            allowed_networks=parse_networks(row.allowed_networks or []),
            active=row.active,
        )


def authenticate_signed_request(
    ctx: EngineContext, method: str, path: str, body: bytes, headers: Mapping[str, str], *, client_ip: str
) -> Subject:
    """Verify an HMAC-signed request (docs/API_SIGNING.md) and return the client's Subject.

    Checks, in order: headers, key (active), IP allow-list, timestamp within
    ``settings.api_signature_max_age_seconds``, signature, one-time nonce (Redis or DB store).
    The subject is ``client:<key_id>`` with no roles; its permissions are its Casbin rules.

    Raises:
        SignatureRejected: ``reason`` is ``malformed``, ``unknown_key``, ``ip_not_allowed``,
            ``stale_timestamp``, ``bad_signature`` or ``replayed_nonce`` (audited as ``access.denied``).
    """
    try:
        client = verify_request(
            method,
            path,
            body,
            headers,
            client_ip=client_ip,
            lookup_client=lambda key: _lookup(ctx, key),
            nonce_store=nonce_store(ctx),
            now=now(ctx).timestamp(),
            max_skew_seconds=ctx.settings.api_signature_max_age_seconds,
        )
    except SignatureRejected as exc:
        key = exc.detail.get("key_id") or "unknown"
        record_now(
            ctx,
            actor=client_subject(str(key))[:100],
            action="access.denied",
            reason=exc.reason.value,
            details={"ip": client_ip, "method": method, "path": path.split("?")[0][:200]},
        )
        exc.audited = True
        raise
    return Subject(client_subject(client.key_id), {}, client.key_id)
