"""HMAC-SHA256 request signing for external API clients (HIS, payment, portal).

Canonical string (UTF-8, ``\\n``-separated)::

    METHOD              upper case, e.g. POST
    PATH                path as sent, plus ``?`` and the query pairs sorted by (key, value),
                        re-encoded with RFC 3986 percent-encoding; no ``?`` when no query
    SHA256(body)        lower-case hex of the raw body (of b"" when empty)
    TIMESTAMP           unix seconds, decimal
    NONCE               8–64 chars of [A-Za-z0-9_-], unique per request

Headers: ``X-Api-Key``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` (lower-case hex of
HMAC-SHA256(secret, canonical)). Verification order: headers → key → IP allow-list →
timestamp skew → signature → nonce (a nonce is only consumed by a correctly signed request,
so forged requests cannot burn nonces).
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from engine.errors import AuthenticationFailed
from engine.security.nonces import NonceStore

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

HEADER_KEY = "X-Api-Key"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
DEFAULT_MAX_SKEW_SECONDS = 30 * 60

_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SIG_RE = re.compile(r"[0-9a-fA-F]{64}")
_TS_RE = re.compile(r"[0-9]{1,12}")


class FailureReason(enum.StrEnum):
    """Why a signed request was refused (logged; clients only get a generic 401)."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    IP_NOT_ALLOWED = "ip_not_allowed"
    STALE_TIMESTAMP = "stale_timestamp"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED_NONCE = "replayed_nonce"


class SignatureRejected(AuthenticationFailed):
    """A signed request failed verification; ``reason`` says why."""

    code = "signature_rejected"

    def __init__(self, reason: FailureReason, key_id: str | None = None) -> None:
        super().__init__("请求签名校验失败。", reason=reason.value, key_id=key_id)
        self.reason = reason


@dataclass(frozen=True)
class ApiClient:
    """A registered external client.

    Attributes:
        key_id: Public key id sent as ``X-Api-Key``.
        secret: Shared HMAC secret.
        allowed_networks: Source networks allowed; empty means *no* address is allowed
            (default deny). Use ``parse_networks(["0.0.0.0/0", "::/0"])`` to allow any.
        active: Disabled clients are treated as unknown.
    """

    key_id: str
    secret: str | bytes
    allowed_networks: tuple[IPNetwork, ...] = ()
    active: bool = True


def parse_networks(items: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse CIDRs or single addresses (``"10.1.0.0/16"``, ``"192.168.3.7"``).

    Raises:
        ValueError: An entry is not an address or network.
    """
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items)


def ip_allowed(client_ip: str, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``client_ip`` lies in one of ``networks`` (IPv4-mapped IPv6 is unwrapped)."""
    try:
        addr = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in networks)


def canonical_path(path: str) -> str:
    """Path plus its query with pairs sorted, re-encoded deterministically."""
    base, sep, query = path.partition("?")
    if not sep or not query:
        return base
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return base + "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def canonical_string(method: str, path: str, body: bytes, timestamp: int | str, nonce: str) -> str:
    """Build the string that is signed (see module docstring)."""
    return "\n".join(
        [method.upper(), canonical_path(path), hashlib.sha256(body).hexdigest(), str(timestamp), nonce]
    )


def compute_signature(secret: str | bytes, canonical: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``canonical`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def sign_request(
    secret: str | bytes,
    method: str,
    path: str,
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
    *,
    key_id: str,
) -> dict[str, str]:
    """Sign a request the way our clients must (used by the README example and tests).

    Args:
        secret: The client's shared secret.
        method: HTTP method.
        path: Path with optional query string, exactly as sent.
        body: Raw body bytes.
        timestamp: Unix seconds; defaults to now.
        nonce: Unique per request; defaults to 128 random bits.
        key_id: The client's key id (``X-Api-Key``).

    Returns:
        The four headers to add to the request.
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    nonce = nonce or secrets.token_urlsafe(16)
    signature = compute_signature(secret, canonical_string(method, path, body, ts, nonce))
    return {HEADER_KEY: key_id, HEADER_TIMESTAMP: str(ts), HEADER_NONCE: nonce, HEADER_SIGNATURE: signature}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if isinstance(value, str) else None


def verify_request(
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    client_ip: str,
    lookup_client: Callable[[str], ApiClient | None],
    nonce_store: NonceStore,
    now: float | None = None,
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
) -> ApiClient:
    """Verify a signed request.

    Args:
        method: HTTP method as received.
        path: Raw path with query string as received.
        body: Raw body bytes.
        headers: Request headers (any case).
        client_ip: Source address (after the trusted-proxy resolution done by the API layer).
        lookup_client: Returns the client for a key id, or None.
        nonce_store: Anti-replay store (shared between replicas in production).
        now: Current unix time; defaults to ``time.time()``.
        max_skew_seconds: Accepted clock difference in either direction (default 30 min).

    Returns:
        The authenticated client.

    Raises:
        SignatureRejected: With the :class:`FailureReason`.
    """
    key_id = _header(headers, HEADER_KEY)
    ts_raw = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    signature = _header(headers, HEADER_SIGNATURE)
    if not key_id or not ts_raw or not nonce or not signature:
        raise SignatureRejected(FailureReason.MALFORMED, key_id)
    if not _TS_RE.fullmatch(ts_raw) or not _NONCE_RE.fullmatch(nonce) or len(key_id) > 128:
        raise SignatureRejected(FailureReason.MALFORMED, key_id)
    client = lookup_client(key_id)
    if client is None or not client.active:
        raise SignatureRejected(FailureReason.UNKNOWN_KEY, key_id)
    if not ip_allowed(client_ip, client.allowed_networks):
        raise SignatureRejected(FailureReason.IP_NOT_ALLOWED, key_id)
    now = time.time() if now is None else now
    timestamp = int(ts_raw)
    if abs(now - timestamp) > max_skew_seconds:
        raise SignatureRejected(FailureReason.STALE_TIMESTAMP, key_id)
    expected = compute_signature(client.secret, canonical_string(method, path, body, ts_raw, nonce))
    if not _SIG_RE.fullmatch(signature) or not hmac.compare_digest(expected, signature.lower()):
        raise SignatureRejected(FailureReason.BAD_SIGNATURE, key_id)
    # Remember the nonce as long as its timestamp could still be accepted.
    if not nonce_store.remember(key_id, nonce, timestamp + max_skew_seconds + 1):
        raise SignatureRejected(FailureReason.REPLAYED_NONCE, key_id)
    return client
