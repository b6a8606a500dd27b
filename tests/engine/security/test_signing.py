from __future__ import annotations

import hashlib
import hmac

import pytest

from engine.security.nonces import InMemoryNonceStore
from engine.security.signing import (
    ApiClient,
    FailureReason,
    SignatureRejected,
    canonical_path,
    canonical_string,
    ip_allowed,
    parse_networks,
    sign_request,
    verify_request,
)

NOW = 1_717_200_000
SECRET = "s3cr3t-his"
CLIENT = ApiClient("his-01", SECRET, parse_networks(["10.8.0.0/16", "192.168.1.20"]))
BODY = b'{"processKey":"medical_record_copy","businessKey":"MR-1"}'


def lookup(key_id: str) -> ApiClient | None:
    return {"his-01": CLIENT, "off": ApiClient("off", "x", parse_networks(["0.0.0.0/0"]), active=False)}.get(
        key_id
    )


def verify(headers, *, method="POST", path="/api/v1/instances?b=2&a=1", body=BODY, ip="10.8.3.4",
           now=NOW, store=None, **kw):
    return verify_request(method, path, body, headers, client_ip=ip, lookup_client=lookup,
                          nonce_store=store or InMemoryNonceStore(lambda: now), now=now, **kw)


def signed(**kw) -> dict[str, str]:
    args = {"method": "POST", "path": "/api/v1/instances?b=2&a=1", "body": BODY, "timestamp": NOW,
            "nonce": "nonce-0001"}
    args.update(kw)
    return sign_request(SECRET, args["method"], args["path"], args["body"], args["timestamp"], args["nonce"],
                        key_id="his-01")


def reason(exc: pytest.ExceptionInfo[SignatureRejected]) -> FailureReason:
    return exc.value.reason


def test_canonical_string_is_documented_shape() -> None:
    s = canonical_string("post", "/p?b=2&a=1&a=0", b"", NOW, "nonce-0001")
    assert s.split("\n") == [
        "POST", "/p?a=0&a=1&b=2", hashlib.sha256(b"").hexdigest(), str(NOW), "nonce-0001"
    ]


def test_canonical_path_encoding() -> None:
    assert canonical_path("/p") == "/p"
    assert canonical_path("/p?") == "/p"
    assert canonical_path("/p?name=%E5%BC%A0&x=") == canonical_path("/p?x=&name=张")
    assert canonical_path("/p?q=a+b") == "/p?q=a%20b"


def test_sign_request_headers_match_manual_hmac() -> None:
    h = signed()
    assert set(h) == {"X-Api-Key", "X-Timestamp", "X-Nonce", "X-Signature"}
    canonical = canonical_string("POST", "/api/v1/instances?b=2&a=1", BODY, NOW, "nonce-0001")
    assert h["X-Signature"] == hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def test_sign_request_defaults_fill_timestamp_and_nonce() -> None:
    h = sign_request(SECRET, "GET", "/x", key_id="k")
    assert h["X-Timestamp"].isdigit() and len(h["X-Nonce"]) >= 16


def test_valid_request_and_query_order_irrelevant() -> None:
    assert verify(signed()) is CLIENT
    assert verify(signed(), path="/api/v1/instances?a=1&b=2") is CLIENT


def test_header_names_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in signed().items()}
    assert verify(headers) is CLIENT


@pytest.mark.parametrize("missing", ["X-Api-Key", "X-Timestamp", "X-Nonce", "X-Signature"])
def test_missing_header_is_malformed(missing: str) -> None:
    h = signed()
    del h[missing]
    with pytest.raises(SignatureRejected) as exc:
        verify(h)
    assert reason(exc) is FailureReason.MALFORMED


@pytest.mark.parametrize(("name", "value"), [("X-Timestamp", "12.5"), ("X-Nonce", "short"),
                                             ("X-Nonce", "bad nonce with spaces")])
def test_bad_header_format_is_malformed(name: str, value: str) -> None:
    with pytest.raises(SignatureRejected) as exc:
        verify({**signed(), name: value})
    assert reason(exc) is FailureReason.MALFORMED


def test_unknown_and_inactive_key() -> None:
    for key in ("nobody", "off"):
        with pytest.raises(SignatureRejected) as exc:
            verify({**signed(), "X-Api-Key": key})
        assert reason(exc) is FailureReason.UNKNOWN_KEY


def test_ip_allow_list() -> None:
    assert verify(signed(), ip="192.168.1.20") is CLIENT
    assert verify(signed(), ip="::ffff:10.8.0.1") is CLIENT
    for ip in ("192.168.1.21", "8.8.8.8", "not-an-ip", "2001:db8::1"):
        with pytest.raises(SignatureRejected) as exc:
            verify(signed(), ip=ip)
        assert reason(exc) is FailureReason.IP_NOT_ALLOWED


def test_empty_allow_list_denies() -> None:
    assert not ip_allowed("10.0.0.1", ())
    assert ip_allowed("2001:db8::1", parse_networks(["0.0.0.0/0", "::/0"]))


def test_timestamp_skew() -> None:
    assert verify(signed(timestamp=NOW - 1800)) is CLIENT
    assert verify(signed(timestamp=NOW + 1800)) is CLIENT
    for ts in (NOW - 1801, NOW + 1801):
        with pytest.raises(SignatureRejected) as exc:
            verify(signed(timestamp=ts))
        assert reason(exc) is FailureReason.STALE_TIMESTAMP
    with pytest.raises(SignatureRejected) as exc:
        verify(signed(timestamp=NOW - 120), max_skew_seconds=60)
    assert reason(exc) is FailureReason.STALE_TIMESTAMP


@pytest.mark.parametrize(
    "tamper",
    [
        {"method": "PUT"},
        {"path": "/api/v1/instances?b=3&a=1"},
        {"path": "/api/v1/other?b=2&a=1"},
        {"body": BODY + b" "},
    ],
)
def test_tampering_gives_bad_signature(tamper: dict) -> None:
    with pytest.raises(SignatureRejected) as exc:
        verify(signed(), **tamper)
    assert reason(exc) is FailureReason.BAD_SIGNATURE


def test_bad_signature_variants() -> None:
    h = signed()
    for sig in ("0" * 64, "zz" * 32, "签名", h["X-Signature"][:-1]):
        with pytest.raises(SignatureRejected) as exc:
            verify({**h, "X-Signature": sig})
        assert reason(exc) is FailureReason.BAD_SIGNATURE
    assert verify({**h, "X-Signature": h["X-Signature"].upper()}) is CLIENT
    wrong_secret = sign_request("other", "POST", "/api/v1/instances?b=2&a=1", BODY, NOW, "nonce-0001",
                                key_id="his-01")
    with pytest.raises(SignatureRejected) as exc:
        verify(wrong_secret)
    assert reason(exc) is FailureReason.BAD_SIGNATURE


def test_replayed_nonce_and_forgeries_do_not_burn_nonces() -> None:
    store = InMemoryNonceStore(lambda: NOW)
    h = signed()
    with pytest.raises(SignatureRejected):
        verify({**h, "X-Signature": "0" * 64}, store=store)
    assert verify(h, store=store) is CLIENT  # forged attempt did not consume the nonce
    with pytest.raises(SignatureRejected) as exc:
        verify(h, store=store)
    assert reason(exc) is FailureReason.REPLAYED_NONCE
    assert exc.value.to_dict()["reason"] == "replayed_nonce"
    assert exc.value.to_dict()["code"] == "signature_rejected"


def test_replay_across_replicas_via_redis(redis_client) -> None:
    from engine.security.nonces import RedisNonceStore

    store = RedisNonceStore(redis_client, prefix=redis_client.test_prefix, clock=lambda: NOW)
    h = signed(nonce="redis-nonce-1")
    assert verify(h, store=store) is CLIENT
    other_replica = RedisNonceStore(redis_client, prefix=redis_client.test_prefix, clock=lambda: NOW)
    with pytest.raises(SignatureRejected) as exc:
        verify(h, store=other_replica)
    assert reason(exc) is FailureReason.REPLAYED_NONCE
    ttl = redis_client.ttl(f"{redis_client.test_prefix}his-01:redis-nonce-1")
    assert ttl > 0
