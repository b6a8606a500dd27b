"""SSO hand-off tokens from the hospital portal (short-lived, single-use).

Format (so the portal can implement it in any language)::

    token   = b64url(payload_json) "." b64url(HMAC-SHA256(secret, b64url(payload_json)))
    payload = {"v": 1, "sub": "<employee no>", "aud": "<audience>",
               "iat": <unix s>, "exp": <unix s>, "nonce": "<8-64 chars [A-Za-z0-9_-]>"}

b64url is RFC 4648 §5 without padding. Verification checks, in order: shape and size,
signature (constant time), claims types, audience, ``iat``/``exp`` with a small leeway,
lifetime no longer than ``max_ttl``, and finally one-time use through a ``NonceStore``.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from engine.errors import AuthenticationFailed
from engine.security.nonces import NonceStore

DEFAULT_TTL_SECONDS = 60
MAX_TOKEN_LENGTH = 2048
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


class TokenFailure(enum.StrEnum):
    """Why a hand-off token was refused."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    TOO_LONG_LIVED = "too_long_lived"
    REPLAYED = "replayed"


class TokenRejected(AuthenticationFailed):
    """A hand-off token failed verification; ``reason`` says why."""

    code = "token_rejected"

    def __init__(self, reason: TokenFailure) -> None:
        super().__init__("单点登录凭证无效或已过期，请从门户重新进入。", reason=reason.value)
        self.reason = reason


@dataclass(frozen=True)
class HandoffClaims:
    """Verified token content."""

    employee_no: str
    audience: str
    issued_at: int
    expires_at: int
    nonce: str


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    # Strict: the lenient decoder silently drops characters outside the alphabet.
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def issue_handoff_token(
    secret: str | bytes,
    employee_no: str,
    audience: str,
    *,
    now: float | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    nonce: str | None = None,
) -> str:
    """Issue a token (what the portal does; we use it in tests and the README example).

    Args:
        secret: Shared HMAC secret between portal and platform.
        employee_no: The employee number (工号) to log in.
        audience: Who the token is for, e.g. ``"hwf-inbox"``.
        now: Issue time in unix seconds; defaults to now.
        ttl_seconds: Lifetime (default 60 s).
        nonce: Unique id; defaults to 128 random bits.

    Returns:
        The compact token string.
    """
    iat = int(time.time() if now is None else now)
    payload = {
        "v": 1,
        "sub": employee_no,
        "aud": audience,
        "iat": iat,
        "exp": iat + ttl_seconds,
        "nonce": nonce or secrets.token_urlsafe(16),
    }
    body = _b64e(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    sig = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64e(sig)}"


def _decode(token: str, secret: str | bytes) -> dict[str, Any]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise TokenRejected(TokenFailure.MALFORMED)
    body, sig_text = token.split(".")
    try:
        sig = _b64d(sig_text)
    except (binascii.Error, ValueError) as exc:
        raise TokenRejected(TokenFailure.MALFORMED) from exc
    expected = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, sig):
        raise TokenRejected(TokenFailure.BAD_SIGNATURE)
    try:
        payload = json.loads(_b64d(body))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejected(TokenFailure.MALFORMED) from exc
    if not isinstance(payload, dict):
        raise TokenRejected(TokenFailure.MALFORMED)
    return payload


def verify_handoff_token(
    token: str,
    secret: str | bytes,
    *,
    audience: str,
    nonce_store: NonceStore,
    now: float | None = None,
    leeway_seconds: int = 5,
    max_ttl_seconds: int = 300,
) -> HandoffClaims:
    """Verify and consume a hand-off token.

    Args:
        token: The compact token.
        secret: Shared HMAC secret.
        audience: The audience this service accepts.
        nonce_store: One-time-use store; the nonce is consumed only if all checks pass.
        now: Current unix time; defaults to now.
        leeway_seconds: Clock difference tolerated on ``iat`` and ``exp``.
        max_ttl_seconds: Longest lifetime accepted, whatever the issuer wrote.

    Returns:
        The verified claims.

    Raises:
        TokenRejected: With a :class:`TokenFailure` reason.
    """
    payload = _decode(token, secret)
    sub, aud, iat, exp, nonce = (payload.get(k) for k in ("sub", "aud", "iat", "exp", "nonce"))
    if (
        payload.get("v") != 1
        or not isinstance(sub, str)
        or not sub
        or not isinstance(aud, str)
        or type(iat) is not int
        or type(exp) is not int
        or not isinstance(nonce, str)
        or not _NONCE_RE.fullmatch(nonce)
    ):
        raise TokenRejected(TokenFailure.MALFORMED)
    if not hmac.compare_digest(aud.encode(), audience.encode()):
        raise TokenRejected(TokenFailure.WRONG_AUDIENCE)
    now = time.time() if now is None else now
    if exp - iat > max_ttl_seconds:
        raise TokenRejected(TokenFailure.TOO_LONG_LIVED)
    if now >= exp + leeway_seconds:
        raise TokenRejected(TokenFailure.EXPIRED)
    if now < iat - leeway_seconds:
        raise TokenRejected(TokenFailure.NOT_YET_VALID)
    if not nonce_store.remember(f"sso:{aud}", nonce, exp + leeway_seconds + 1):
        raise TokenRejected(TokenFailure.REPLAYED)
    return HandoffClaims(employee_no=sub, audience=aud, issued_at=iat, expires_at=exp, nonce=nonce)
