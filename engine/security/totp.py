"""TOTP second factor for privileged roles (RFC 6238 via pyotp) with replay protection.

The caller stores the last accepted time-step per user and passes it back; a code is
accepted only for a step strictly after it, so a code cannot be used twice, nor an older
code after a newer one.
"""
from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "医院流程平台"
DIGITS = 6
INTERVAL = 30


def new_secret() -> str:
    """Return a new random base32 secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str, *, issuer: str = ISSUER) -> str:
    """Build the ``otpauth://`` URI an authenticator app scans as a QR code.

    Args:
        secret: Base32 secret from :func:`new_secret`.
        account_name: What the app shows, e.g. the employee number.
        issuer: Issuer label; defaults to the platform name.
    """
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account_name, issuer_name=issuer
    )


def time_step(now: datetime | float) -> int:
    """The TOTP counter for ``now`` (aware datetime or unix seconds)."""
    ts = now.timestamp() if isinstance(now, datetime) else float(now)
    return int(ts // INTERVAL)


def code_at(secret: str, step: int) -> str:
    """The code for a given time-step (for tests and enrolment confirmation screens)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).generate_otp(step)


def verify(
    secret: str,
    code: str,
    now: datetime | float,
    last_used_step: int | None = None,
    *,
    window: int = 1,
) -> int | None:
    """Verify a code with a ±``window`` step tolerance and replay protection.

    Args:
        secret: The user's base32 secret.
        code: What the user typed; spaces are ignored.
        now: Current time (aware datetime or unix seconds).
        last_used_step: Step returned by the last successful call, or None.
        window: Accepted clock drift in steps on each side.

    Returns:
        The step the code matched (store it as the new ``last_used_step``), or None when the
        code is wrong, malformed or already used.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = time_step(now)
    for step in range(current - window, current + window + 1):
        if step < 0 or (last_used_step is not None and step <= last_used_step):
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
