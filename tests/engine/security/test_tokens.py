from __future__ import annotations

import base64
import json

import pytest

from engine.security.nonces import InMemoryNonceStore
from engine.security.tokens import (
    TokenFailure,
    TokenRejected,
    issue_handoff_token,
    verify_handoff_token,
)

SECRET = "portal-shared-secret"
NOW = 1_717_200_000


def verify(token: str, *, now: float = NOW, audience: str = "hwf-inbox", store=None, **kw):
    return verify_handoff_token(token, SECRET, audience=audience,
                                nonce_store=store or InMemoryNonceStore(lambda: now), now=now, **kw)


def rejected(token: str, **kw) -> TokenFailure:
    with pytest.raises(TokenRejected) as exc:
        verify(token, **kw)
    return exc.value.reason


def test_roundtrip() -> None:
    t = issue_handoff_token(SECRET, "E10023", "hwf-inbox", now=NOW, nonce="nonce-abc-1")
    claims = verify(t, now=NOW + 30)
    assert (claims.employee_no, claims.audience, claims.issued_at, claims.expires_at, claims.nonce) == (
        "E10023", "hwf-inbox", NOW, NOW + 60, "nonce-abc-1")


def test_payload_is_documented_json() -> None:
    t = issue_handoff_token(SECRET, "工号01", "hwf-inbox", now=NOW)
    body = t.split(".")[0]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert set(payload) == {"v", "sub", "aud", "iat", "exp", "nonce"} and payload["sub"] == "工号01"


def test_expired_and_leeway() -> None:
    t = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW)
    assert verify(t, now=NOW + 64).employee_no == "E1"
    assert rejected(t, now=NOW + 65) is TokenFailure.EXPIRED
    assert rejected(t, now=NOW - 6) is TokenFailure.NOT_YET_VALID


def test_bad_signature() -> None:
    t = issue_handoff_token("other-secret", "E1", "hwf-inbox", now=NOW)
    assert rejected(t) is TokenFailure.BAD_SIGNATURE
    good = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW)
    forged_body = base64.urlsafe_b64encode(json.dumps(
        {"v": 1, "sub": "ADMIN", "aud": "hwf-inbox", "iat": NOW, "exp": NOW + 60, "nonce": "nonce-abc-1"}
    ).encode()).decode().rstrip("=")
    assert rejected(forged_body + "." + good.split(".")[1]) is TokenFailure.BAD_SIGNATURE


def test_wrong_audience() -> None:
    t = issue_handoff_token(SECRET, "E1", "other-app", now=NOW)
    assert rejected(t) is TokenFailure.WRONG_AUDIENCE


def test_one_time_use() -> None:
    store = InMemoryNonceStore(lambda: NOW)
    t = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW)
    verify(t, store=store)
    assert rejected(t, store=store) is TokenFailure.REPLAYED


def test_one_time_use_on_redis(redis_client) -> None:
    from engine.security.nonces import RedisNonceStore

    store = RedisNonceStore(redis_client, prefix=redis_client.test_prefix, clock=lambda: NOW)
    t = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW)
    verify(t, store=store)
    assert rejected(t, store=store) is TokenFailure.REPLAYED


def test_failed_checks_do_not_consume_nonce() -> None:
    store = InMemoryNonceStore(lambda: NOW)
    t = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW)
    assert rejected(t, store=store, audience="x") is TokenFailure.WRONG_AUDIENCE
    assert verify(t, store=store).employee_no == "E1"


def test_too_long_lived() -> None:
    t = issue_handoff_token(SECRET, "E1", "hwf-inbox", now=NOW, ttl_seconds=3600)
    assert rejected(t) is TokenFailure.TOO_LONG_LIVED


def _signed(payload: object) -> str:
    import hashlib
    import hmac

    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    sig = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "", "abc", "a.b.c", "x" * 3000, "####.####",
        _signed([1, 2]),
        _signed({"v": 2, "sub": "E1", "aud": "hwf-inbox", "iat": NOW, "exp": NOW + 60, "nonce": "nonce-abc-1"}),
        _signed({"v": 1, "sub": "", "aud": "hwf-inbox", "iat": NOW, "exp": NOW + 60, "nonce": "nonce-abc-1"}),
        _signed({"v": 1, "sub": "E1", "aud": "hwf-inbox", "iat": "now", "exp": NOW + 60, "nonce": "nonce-abc-1"}),
        _signed({"v": 1, "sub": "E1", "aud": "hwf-inbox", "iat": NOW, "exp": True, "nonce": "nonce-abc-1"}),
        _signed({"v": 1, "sub": "E1", "aud": "hwf-inbox", "iat": NOW, "exp": NOW + 60, "nonce": "n"}),
    ],
)
def test_malformed(token: str) -> None:
    assert rejected(token) is TokenFailure.MALFORMED
