"""Encryption at rest, blind indexes and masking for sensitive fields (ID number, phone).

Ciphertext format: ``v<version>:<base64url(nonce[12] + ciphertext + tag[16])>``. The
version names the key, so keys rotate by adding a new version, making it current, and
re-encrypting rows lazily (``needs_reencrypt``/``reencrypt``). The column name is bound as
associated data so a value cannot be moved from one column to another.

Blind index: HMAC-SHA256 over the normalised value with a *separate* key, for exact-match
lookups ("find patient by phone") without decrypting the table.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import EngineError

_NONCE_BYTES = 12
_CT_RE = re.compile(r"v([0-9]{1,6}):([A-Za-z0-9_-]+=*)")


class FieldCryptoError(EngineError):
    """A value cannot be decrypted (unknown key version, corrupt or tampered)."""

    code = "field_crypto_error"


def decode_key(value: str | bytes) -> bytes:
    """Decode a base64 (standard or url-safe) AES key setting and check its length.

    Raises:
        ValueError: Not base64, or not 16/24/32 bytes.
    """
    if isinstance(value, bytes):
        raw = value
    else:
        text = value.strip()
        try:
            altchars = b"-_" if ("-" in text or "_" in text) else None
            raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=altchars, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("field key is not valid base64") from exc
    if len(raw) not in (16, 24, 32):
        raise ValueError("field key must be 16, 24 or 32 bytes (32 recommended)")
    return raw


def generate_key() -> str:
    """A new random 256-bit key, base64-encoded, for the settings file."""
    return base64.b64encode(os.urandom(32)).decode()


class FieldCipher:
    """AES-GCM encryption of short text fields with versioned keys.

    Args:
        keys: Version → key (raw bytes or base64 text). Keep old versions until re-encrypted.
        current_version: Version used for new encryptions.
    """

    def __init__(self, keys: Mapping[int, str | bytes], current_version: int) -> None:
        if current_version not in keys:
            raise ValueError(f"current key version {current_version} is not configured")
        self._aead = {int(v): AESGCM(decode_key(k)) for v, k in keys.items()}
        self.current_version = current_version

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt ``plaintext``; ``context`` (e.g. the column name) must match on decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead[self.current_version].encrypt(nonce, plaintext.encode(), context.encode())
        return f"v{self.current_version}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, ciphertext: str, *, context: str = "") -> str:
        """Decrypt a value produced by :meth:`encrypt`.

        Raises:
            FieldCryptoError: Unknown version, bad format, wrong context or tampering.
        """
        version, blob = self._parse(ciphertext)
        aead = self._aead.get(version)
        if aead is None:
            raise FieldCryptoError("字段密钥版本未配置。", key_version=version)
        try:
            return aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, UnicodeDecodeError) as exc:
            raise FieldCryptoError("字段解密失败（数据被篡改或密钥错误）。", key_version=version) from exc

    def key_version(self, ciphertext: str) -> int:
        """The key version a ciphertext was made with."""
        return self._parse(ciphertext)[0]

    def needs_reencrypt(self, ciphertext: str) -> bool:
        """True when the value was encrypted with a non-current key."""
        return self.key_version(ciphertext) != self.current_version

    def reencrypt(self, ciphertext: str, *, context: str = "") -> str:
        """Decrypt with the old key and encrypt with the current one."""
        return self.encrypt(self.decrypt(ciphertext, context=context), context=context)

    @staticmethod
    def _parse(ciphertext: str) -> tuple[int, bytes]:
        match = _CT_RE.fullmatch(ciphertext or "")
        if not match:
            raise FieldCryptoError("字段密文格式错误。")
        try:
            blob = base64.urlsafe_b64decode(match.group(2))
        except (binascii.Error, ValueError) as exc:
            raise FieldCryptoError("字段密文格式错误。") from exc
        if len(blob) < _NONCE_BYTES + 16:
            raise FieldCryptoError("字段密文格式错误。")
        return int(match.group(1)), blob


def normalize_phone(value: str) -> str:
    """Digits only, without a leading +86/0086 country code (for indexing)."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    return digits


def normalize_id_number(value: str) -> str:
    """Strip spaces and upper-case the check character ``x`` (for indexing)."""
    return re.sub(r"\s", "", value or "").upper()


_NORMALIZERS = {"phone": normalize_phone, "id_number": normalize_id_number}


class BlindIndex:
    """Deterministic keyed hash for equality lookups on encrypted columns.

    Args:
        key: A key distinct from the encryption keys (raw or base64). Rotating it means
            recomputing every index value, so it is not versioned.
    """

    def __init__(self, key: str | bytes) -> None:
        self._key = decode_key(key)

    def compute(self, value: str, kind: str) -> str:
        """Hex HMAC of the normalised value; ``kind`` ("phone", "id_number", other) is mixed in
        so equal strings in different columns do not share an index value."""
        normalized = _NORMALIZERS.get(kind, str.strip)(value)
        return hmac.new(self._key, f"{kind}\x00{normalized}".encode(), hashlib.sha256).hexdigest()


def _mask_middle(text: str, head: int, tail: int) -> str:
    n = len(text)
    if n == 0:
        return ""
    if n <= 2:
        return "*" * n
    if n <= head + tail:
        # Too short for the standard shape: show at most a quarter on each side.
        head = tail = max(1, n // 4) if n >= 4 else 1
        if n == 3:
            tail = 0
    return text[:head] + "*" * (n - head - tail) + (text[n - tail :] if tail else "")


def mask_id_number(value: str | None) -> str:
    """Mask a resident ID number: first 6 and last 4 shown (``110101********1234``).

    Odd or short input never reveals more than half of itself.
    """
    return _mask_middle(re.sub(r"\s", "", value or ""), 6, 4)


def mask_phone(value: str | None) -> str:
    """Mask a phone number: ``138****5678``; ``+86`` is kept as a prefix, landlines keep
    the last 4 digits (``010-****5678``).
    """
    raw = re.sub(r"[\s-]", "", value or "")
    prefix = ""
    for code in ("+86", "0086"):
        if raw.startswith(code) and len(raw) > len(code) + 4:
            prefix, raw = code + " ", raw[len(code) :]
            break
    if len(raw) == 11 and raw.startswith("1"):
        return prefix + raw[:3] + "****" + raw[7:]
    if raw.startswith("0") and len(raw) >= 10:  # landline with area code
        area = 3 if raw[1] in "12" else 4
        return prefix + raw[:area] + "-" + _mask_middle(raw[area:], 0, 4)
    return prefix + _mask_middle(raw, 3, 4)


def mask_name(value: str | None) -> str:
    """Mask a personal name, keeping the first character: 张三 → 张*, 欧阳娜娜 → 欧***.

    Separators (``·`` in 少数民族 names, spaces) are kept; a one-character name becomes ``*``.
    """
    text = (value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "".join(c if c in "· " else "*" for c in text[1:])
