from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from engine.errors import ValidationFailed
from engine.security.passwords import (
    PasswordPolicy,
    character_classes,
    expiry_status,
    hash_password,
    needs_rehash,
    verify_password,
)

POLICY = PasswordPolicy()


def codes(issues) -> list[str]:
    return [i.code for i in issues]


def test_defaults_follow_baseline() -> None:
    assert (POLICY.min_length, POLICY.min_classes, POLICY.history) == (10, 3, 5)
    assert (POLICY.max_age_days, POLICY.warn_days) == (90, 7)
    with pytest.raises(AttributeError):
        POLICY.min_length = 3  # type: ignore[misc]


def test_good_password_passes() -> None:
    assert POLICY.check("Spring-2024x", "zhangsan") == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab1!", ["too_short"]),
        ("abcdefghijk", ["too_few_classes"]),
        ("abcdefghij1", ["too_few_classes"]),
        ("abcdefgh1A", []),
        ("abcdefgh1!", []),
        ("ABCDEFGH1!", []),
        ("abc", ["too_short", "too_few_classes"]),
    ],
)
def test_length_and_classes(password: str, expected: list[str]) -> None:
    assert codes(POLICY.check(password, None)) == expected


def test_character_classes_treat_non_ascii_as_symbol() -> None:
    assert character_classes("abc") == 1
    assert character_classes("aB3") == 3
    assert character_classes("aB3!") == 4
    assert character_classes("密码abc1") == 3  # CJK counts as a symbol
    assert character_classes("１２３") == 1  # full-width digits are not ASCII digits


def test_contains_username_case_insensitive() -> None:
    assert codes(POLICY.check("xxZhangSan2024!", "zhangsan")) == ["contains_username"]
    assert codes(POLICY.check("xxZHANGSAN2024!", "ZhangSan")) == ["contains_username"]
    # Very short login names are not searched for (they would forbid most passwords).
    assert POLICY.check("Spring-2024ab", "ab") == []
    assert POLICY.check("Spring-2024ab", "") == []


def test_messages_are_chinese_and_carry_settings() -> None:
    issues = PasswordPolicy(min_length=12, min_classes=4).check("abc", None)
    assert "12" in issues[0].message and "密码" in issues[0].message
    assert "4" in issues[1].message
    assert str(issues[0]) == issues[0].message


def test_reused_checks_only_last_n(fast_hasher: PasswordHasher) -> None:
    old = [hash_password(f"Old-pass-{i}A", hasher=fast_hasher) for i in range(7)]
    policy = PasswordPolicy(history=5)
    assert codes(policy.check("Old-pass-0A", "u", old, hasher=fast_hasher)) == ["reused"]
    assert codes(policy.check("Old-pass-4A", "u", old, hasher=fast_hasher)) == ["reused"]
    assert policy.check("Old-pass-5A", "u", old, hasher=fast_hasher) == []  # 6th newest: allowed
    assert PasswordPolicy(history=0).check("Old-pass-0A", "u", old, hasher=fast_hasher) == []


def test_reused_tolerates_garbage_hashes(fast_hasher: PasswordHasher) -> None:
    assert POLICY.check("Fine-pass-123", "u", ["", "not-a-hash"], hasher=fast_hasher) == []


def test_ensure_acceptable_raises_validation_failed() -> None:
    with pytest.raises(ValidationFailed) as err:
        POLICY.ensure_acceptable("short", "u")
    assert [e.validator for e in err.value.errors] == ["too_short", "too_few_classes"]
    assert all(e.pointer == "/password" for e in err.value.errors)
    POLICY.ensure_acceptable("Spring-2024x", "zhangsan")


def test_hash_verify_roundtrip(fast_hasher: PasswordHasher) -> None:
    h = hash_password("密码Secret-1", hasher=fast_hasher)
    assert h.startswith("$argon2id$")
    assert verify_password(h, "密码Secret-1", hasher=fast_hasher)
    assert not verify_password(h, "密码Secret-2", hasher=fast_hasher)
    assert not verify_password("", "x")
    assert not verify_password("$argon2id$garbage", "x")


def test_default_hasher_roundtrip() -> None:
    h = hash_password("Default-Pass-1")
    assert verify_password(h, "Default-Pass-1")
    assert not needs_rehash(h)


def test_needs_rehash(fast_hasher: PasswordHasher) -> None:
    light = hash_password("x", hasher=fast_hasher)
    assert needs_rehash(light)  # default parameters are stronger
    assert not needs_rehash(light, hasher=fast_hasher)
    assert needs_rehash("garbage")


def test_expiry_status() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert expiry_status(now - timedelta(days=10), now) == "ok"
    assert expiry_status(now - timedelta(days=82, hours=23), now) == "ok"
    assert expiry_status(now - timedelta(days=83), now) == "warn"
    assert expiry_status(now - timedelta(days=89, hours=23), now) == "warn"
    assert expiry_status(now - timedelta(days=90), now) == "expired"
    assert expiry_status(None, now) == "expired"
    assert expiry_status(now - timedelta(days=900), now, PasswordPolicy(max_age_days=0)) == "ok"
