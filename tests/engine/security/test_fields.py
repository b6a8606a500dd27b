from __future__ import annotations

import base64

import pytest

from engine.security.fields import (
    BlindIndex,
    FieldCipher,
    FieldCryptoError,
    decode_key,
    generate_key,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_phone,
)

K1, K2 = generate_key(), generate_key()


def test_roundtrip_and_randomized() -> None:
    c = FieldCipher({1: K1}, 1)
    a = c.encrypt("110101199003071234", context="patient.id_number")
    b = c.encrypt("110101199003071234", context="patient.id_number")
    assert a != b and a.startswith("v1:")
    assert c.decrypt(a, context="patient.id_number") == "110101199003071234"
    assert c.decrypt(c.encrypt("张三 13812345678")) == "张三 13812345678"
    assert c.decrypt(c.encrypt("")) == ""


def test_context_is_bound() -> None:
    c = FieldCipher({1: K1}, 1)
    ct = c.encrypt("13812345678", context="patient.phone")
    with pytest.raises(FieldCryptoError):
        c.decrypt(ct, context="staff.phone")


def test_tamper_and_garbage() -> None:
    c = FieldCipher({1: K1}, 1)
    ct = c.encrypt("13812345678")
    raw = bytearray(base64.urlsafe_b64decode(ct[3:]))
    raw[-1] ^= 1
    with pytest.raises(FieldCryptoError):
        c.decrypt("v1:" + base64.urlsafe_b64encode(bytes(raw)).decode())
    for bad in ("", "plain", "v1:", "v1:@@@", "v1:AAAA", "x1:" + ct[3:]):
        with pytest.raises(FieldCryptoError):
            c.decrypt(bad)


def test_rotation() -> None:
    old = FieldCipher({1: K1}, 1)
    ct1 = old.encrypt("13812345678", context="p")
    new = FieldCipher({1: K1, 2: K2}, 2)
    assert new.needs_reencrypt(ct1) and new.key_version(ct1) == 1
    assert new.decrypt(ct1, context="p") == "13812345678"
    ct2 = new.reencrypt(ct1, context="p")
    assert ct2.startswith("v2:") and not new.needs_reencrypt(ct2)
    with pytest.raises(FieldCryptoError) as err:
        old.decrypt(ct2, context="p")
    assert err.value.detail["key_version"] == 2


def test_key_validation() -> None:
    raw = bytes(range(32))
    assert decode_key(base64.b64encode(raw).decode()) == raw
    assert decode_key(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    assert decode_key(raw) == raw
    for bad in ("not base64!!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            decode_key(bad)
    with pytest.raises(ValueError):
        FieldCipher({1: K1}, 2)


def test_blind_index_deterministic_normalized_and_kind_separated() -> None:
    idx = BlindIndex(K1)
    a = idx.compute("13812345678", "phone")
    assert a == idx.compute("+86 138-1234-5678", "phone") == idx.compute("008613812345678", "phone")
    assert a != idx.compute("13812345679", "phone")
    assert idx.compute("11010119900307123x", "id_number") == idx.compute("11010119900307123X ", "id_number")
    assert idx.compute("13812345678", "id_number") != a
    assert BlindIndex(K2).compute("13812345678", "phone") != a
    assert len(a) == 64
    assert normalize_phone("+86 (138) 1234 5678") == "13812345678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123X", "110101********123X"),
        ("110101900307123", "110101*****7123"),
        ("1101 0119 9003 0712 34", "110101********1234"),
        ("1234567890", "12******90"),
        ("12345", "1***5"),
        ("123", "1**"),
        ("12", "**"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value: str | None, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("010-12345678", "010-****5678"),
        ("0571-8765432", "0571-***5432"),
        ("12345", "1***5"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value: str | None, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧***"), ("阿依古丽·买买提", "阿***·***"),
     ("张", "*"), ("", ""), (None, ""), (" 李四 ", "李*")],
)
def test_mask_name(value: str | None, masked: str) -> None:
    assert mask_name(value) == masked


def test_masks_never_reveal_more_than_half() -> None:
    for n in range(0, 25):
        s = "9" * n
        for masked in (mask_id_number(s), mask_phone(s)):
            assert masked.count("9") <= max(n // 2, 0) or n >= 8
