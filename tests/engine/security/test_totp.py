from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pyotp

from engine.security import totp

NOW = 1_717_200_000.0  # a step boundary is irrelevant; steps are computed


def test_new_secret_and_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and pyotp.TOTP(secret).now().isdigit()
    uri = totp.provisioning_uri(secret, "E10023")
    assert uri.startswith("otpauth://totp/")
    assert "医院流程平台" in unquote(uri) and "E10023" in uri and f"secret={secret}" in uri


def test_verify_current_code_and_returns_step() -> None:
    secret = totp.new_secret()
    step = totp.time_step(NOW)
    assert totp.verify(secret, pyotp.TOTP(secret).at(NOW), NOW) == step
    assert totp.time_step(datetime.fromtimestamp(NOW, UTC)) == step


def test_window_of_one_step() -> None:
    secret = totp.new_secret()
    step = totp.time_step(NOW)
    assert totp.verify(secret, totp.code_at(secret, step - 1), NOW) == step - 1
    assert totp.verify(secret, totp.code_at(secret, step + 1), NOW) == step + 1
    assert totp.verify(secret, totp.code_at(secret, step - 2), NOW) is None
    assert totp.verify(secret, totp.code_at(secret, step + 2), NOW) is None
    assert totp.verify(secret, totp.code_at(secret, step - 2), NOW, window=2) == step - 2


def test_replay_protection() -> None:
    secret = totp.new_secret()
    step = totp.time_step(NOW)
    code = totp.code_at(secret, step)
    used = totp.verify(secret, code, NOW)
    assert used == step
    assert totp.verify(secret, code, NOW, last_used_step=used) is None
    # An older (still in-window) code after a newer one is refused too.
    assert totp.verify(secret, totp.code_at(secret, step - 1), NOW, last_used_step=used) is None
    assert totp.verify(secret, totp.code_at(secret, step + 1), NOW, last_used_step=used) == step + 1


def test_malformed_codes() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, totp.time_step(NOW))
    assert totp.verify(secret, f"{code[:3]} {code[3:]}", NOW) is not None
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert totp.verify(secret, bad, NOW) is None
