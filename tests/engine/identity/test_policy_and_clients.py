"""Casbin rules in our DB (reload across processes), API clients and signed requests, portal SSO."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

import engine
from engine.db import Database, make_engine
from engine.errors import AuthenticationFailed, ValidationFailed
from engine.identity._common import field_cipher
from engine.identity.clients import SECRET_CONTEXT
from engine.models import ApiClientRecord, CasbinRule
from engine.security.fields import FieldCryptoError
from engine.security.nonces import RedisNonceStore
from engine.security.signing import sign_request
from engine.security.tokens import issue_handoff_token
from tests.conftest import _context, sql
from tests.engine.identity.conftest import audit_actions, prepare, subject_of


@pytest.mark.commits
def test_role_change_reaches_a_second_process_without_restart(ctx, database_url, clock):
    prepare(ctx, policy_reload_seconds=3600.0)
    engine.load_demo_identity(ctx)
    other_engine = make_engine(database_url)
    other = prepare(_context(database_url, Database(other_engine), clock), policy_reload_seconds=3600.0)
    try:
        policy_b = engine.authorizer(other) and other.extras["policy"]
        doctor = engine.Subject("zhangwei", {"zyy": frozenset({"expert"})})
        version_before = engine.authorizer(other).policy_version
        admin = subject_of(ctx, "xitong_admin")
        engine.assign_role(ctx, admin, "zhangwei", "expert", "zyy", reason="会诊")
        # Throttled: the other process has not looked yet ...
        assert engine.authorizer(other).policy_version == version_before
        assert "zyy" not in engine.authorizer(other).domains_of("zhangwei")
        # ... and picks it up on its next check, no restart.
        other.settings = other.settings.model_copy(update={"policy_reload_seconds": 0.0})
        assert "expert" in engine.authorizer(other).roles_of("zhangwei", "zyy")
        assert policy_b(doctor, "zyy", "task", "claim")
        with ctx.db.unit_of_work() as s:  # the row, the version and the audit record committed together
            assert s.scalars(
                select(CasbinRule).where(CasbinRule.v0 == "zhangwei", CasbinRule.v2 == "zyy")
            ).first()
        assert "role.assigned" in audit_actions(ctx, "xitong_admin")
    finally:
        other_engine.dispose()


def test_failed_role_change_leaves_policy_untouched(ictx):
    security = subject_of(ictx, "anquan_admin")
    version = engine.authorizer(ictx).policy_version
    with pytest.raises(ValidationFailed):
        engine.assign_role(ictx, security, "shenji_admin", "sys_admin", "*", reason="兼任")
    assert engine.authorizer(ictx).policy_version == version


def _client(ictx, **kw):
    security = subject_of(ictx, "anquan_admin")
    created = engine.create_api_client(
        ictx,
        security,
        key_id="his-01",
        name="HIS 收费系统",
        allowed_networks=["10.8.0.0/16"],
        process_keys=["refund"],
        message_names=["payment_result"],
        institution="rmyy_main",
        reason="HIS 对接",
        **kw,
    )
    return security, created


def _signed(
    ictx,
    secret,
    *,
    path="/api/v1/instances",
    body=b'{"k":1}',
    ts=None,
    nonce=None,
    ip="10.8.1.2",
    key="his-01",
):
    ts = int(ictx.clock.now().timestamp()) if ts is None else ts
    headers = sign_request(secret, "POST", path, body, timestamp=ts, nonce=nonce, key_id=key)
    return engine.authenticate_signed_request(ictx, "POST", path, body, headers, client_ip=ip)


def test_signed_client_acts_with_its_casbin_rules(ictx):
    _, created = _client(ictx)
    subject = _signed(ictx, created.secret)
    assert subject.username == "client:his-01"
    policy = ictx.extras["policy"]
    assert policy(subject, "rmyy_main", "process:refund", "start")
    assert policy(subject, "rmyy_main", "message:payment_result", "send")
    assert not policy(subject, "zyy", "process:refund", "start")  # wrong domain
    assert not policy(subject, "rmyy_main", "process:leave", "start")
    assert ["p", "client:his-01", "rmyy_main", "process:refund", "start"] in engine.list_policies(
        ictx, subject_of(ictx, "anquan_admin"), "p"
    )


@pytest.mark.parametrize(
    "case,reason",
    [
        ("replay", "replayed_nonce"),
        ("stale", "stale_timestamp"),
        ("ip", "ip_not_allowed"),
        ("tamper", "bad_signature"),
        ("unknown", "unknown_key"),
    ],
)
def test_signed_request_refusals_are_audited(ictx, case, reason):
    _, created = _client(ictx)
    now = int(ictx.clock.now().timestamp())
    with pytest.raises(AuthenticationFailed) as exc:
        if case == "replay":
            _signed(ictx, created.secret, nonce="nonce-123456")
            _signed(ictx, created.secret, nonce="nonce-123456")
        elif case == "stale":
            _signed(ictx, created.secret, ts=now - 31 * 60)
        elif case == "ip":
            _signed(ictx, created.secret, ip="192.168.1.1")
        elif case == "tamper":
            _signed(ictx, "not-the-secret")
        else:
            _signed(ictx, created.secret, key="nobody")
    assert exc.value.detail["reason"] == reason
    assert audit_actions(ictx)[-1] == "access.denied"


def test_rotate_and_disable(ictx):
    security, created = _client(ictx)
    rotated = engine.rotate_api_client_secret(ictx, security, "his-01", reason="定期轮换")
    with pytest.raises(AuthenticationFailed):
        _signed(ictx, created.secret)
    _signed(ictx, rotated.secret)
    engine.set_api_client_active(ictx, security, "his-01", False, reason="停用")
    with pytest.raises(AuthenticationFailed) as exc:
        _signed(ictx, rotated.secret)
    assert exc.value.detail["reason"] == "unknown_key"
    assert [c.key_id for c in engine.list_api_clients(ictx, security)] == ["his-01"]


def test_redis_nonce_store_refuses_replay(ictx):
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=13, socket_connect_timeout=2)
    prefix = f"hwf-test:{uuid.uuid4().hex}:"
    ictx.extras["nonce_store"] = RedisNonceStore(client, prefix=prefix, clock=time.time)
    try:
        _, created = _client(ictx)
        ictx.clock.advance(seconds=time.time() - ictx.clock.now().timestamp())  # Redis TTLs use real time
        _signed(ictx, created.secret, nonce="redis-nonce-1")
        with pytest.raises(AuthenticationFailed) as exc:
            _signed(ictx, created.secret, nonce="redis-nonce-1")
        assert exc.value.detail["reason"] == "replayed_nonce"
    finally:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
        client.close()


def test_portal_sso_hand_off(ictx):
    sso = prepare(ictx, sso_secret="portal-shared-secret")
    engine.load_demo_identity(sso)
    now = sso.clock.now().timestamp()
    token = issue_handoff_token("portal-shared-secret", "E1001", "hospital-workflow", now=now)
    result = engine.sso_login(sso, token, ip="10.0.0.5")
    assert (
        result.status == "ok"
        and engine.resolve_session(sso, result.session_token).subject.username == "zhangwei"
    )
    with pytest.raises(AuthenticationFailed) as replay:
        engine.sso_login(sso, token, ip="10.0.0.5")
    assert replay.value.detail["reason"] == "replayed"
    for bad, reason in (
        (issue_handoff_token("portal-shared-secret", "E1001", "other-app", now=now), "wrong_audience"),
        (issue_handoff_token("wrong-secret", "E1001", "hospital-workflow", now=now), "bad_signature"),
        (issue_handoff_token("portal-shared-secret", "E1001", "hospital-workflow", now=now - 600), "expired"),
    ):
        with pytest.raises(AuthenticationFailed) as exc:
            engine.sso_login(sso, bad, ip="10.0.0.5")
        assert exc.value.detail["reason"] == reason
    with pytest.raises(AuthenticationFailed) as unknown:
        engine.sso_login(
            sso, issue_handoff_token("portal-shared-secret", "E404", "hospital-workflow", now=now), ip="x"
        )
    assert unknown.value.code == "bad_credentials"


def test_sso_disabled_without_secret(ictx):
    with pytest.raises(AuthenticationFailed) as exc:
        engine.sso_login(ictx, "a.b", ip="10.0.0.5")
    assert exc.value.detail["reason"] == "sso_disabled"


def _stored_text(ictx, table: str) -> str:
    """Every column of every row of a table, as the database holds it."""
    return repr(sql(ictx, f"SELECT * FROM {table}"))  # noqa: S608 - fixed table names from this module


def test_api_client_secret_is_never_stored_in_plain_text(ictx):
    security, created = _client(ictx)
    rotated = engine.rotate_api_client_secret(ictx, security, "his-01", reason="定期轮换")
    for secret in (created.secret, rotated.secret):
        for table in ("api_clients", "audit_log"):
            assert secret not in _stored_text(ictx, table), table
    with ictx.db.unit_of_work() as s:
        row = s.get(ApiClientRecord, "his-01")
        stored = row.secret_enc
    assert rotated.secret not in stored and created.secret not in stored
    # ciphertext bound to its column: it decrypts only with the deployment key and this context
    assert field_cipher(ictx).decrypt(stored, context=SECRET_CONTEXT) == rotated.secret
    with pytest.raises(FieldCryptoError):
        field_cipher(ictx).decrypt(stored, context="users.phone")
