"""Login-failure lockout, as pure decisions (DESIGN.md §7).

The caller stores two fields per account (``failures``, ``last_failure_at``) and asks
this module what they mean *now*. The model is the familiar three-setting one:
threshold (``max_failures``), lock duration (``lock_minutes``) and the observation
window after which old failures are forgotten (``reset_minutes``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    """Lockout settings.

    Attributes:
        max_failures: Consecutive failures that lock the account.
        lock_minutes: How long a lock lasts, counted from the last failure.
        reset_minutes: Failures older than this (without a lock) are forgotten.
        captcha_after: Failures after which a captcha is demanded (1 = after the first).
    """

    max_failures: int = 5
    lock_minutes: int = 15
    reset_minutes: int = 15
    captcha_after: int = 1


@dataclass(frozen=True)
class LoginFailures:
    """What the account row stores."""

    failures: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class LockoutDecision:
    """The answer for one login attempt.

    Attributes:
        locked: True while ``now < locked_until``; do not even check the password.
        locked_until: End of the current lock, or None.
        captcha_required: Show and verify a captcha before checking the password.
        attempts_left: Failures still allowed before the lock (0 while locked).
        failures: Failures still counting at ``now`` (after the window/lock expiry).
    """

    locked: bool
    locked_until: datetime | None
    captcha_required: bool
    attempts_left: int
    failures: int


def effective_failures(state: LoginFailures, now: datetime, policy: LockoutPolicy) -> int:
    """Failures that still count at ``now``.

    A lock that has run out and failures older than ``reset_minutes`` both reset the count.
    """
    if state.failures <= 0 or state.last_failure_at is None:
        return 0
    age = now - state.last_failure_at
    if state.failures >= policy.max_failures:
        return state.failures if age < timedelta(minutes=policy.lock_minutes) else 0
    return state.failures if age < timedelta(minutes=policy.reset_minutes) else 0


def assess(state: LoginFailures, now: datetime, policy: LockoutPolicy | None = None) -> LockoutDecision:
    """Decide whether a login attempt may proceed.

    Args:
        state: Stored failure count and time of the last failure.
        now: Current time (same awareness as ``last_failure_at``).
        policy: Lockout settings; defaults to ``LockoutPolicy()``.

    Returns:
        The decision; see :class:`LockoutDecision`.
    """
    policy = policy or LockoutPolicy()
    count = effective_failures(state, now, policy)
    locked_until = None
    if count >= policy.max_failures and state.last_failure_at is not None:
        locked_until = state.last_failure_at + timedelta(minutes=policy.lock_minutes)
    locked = locked_until is not None and now < locked_until
    return LockoutDecision(
        locked=locked,
        locked_until=locked_until if locked else None,
        captcha_required=policy.captcha_after > 0 and count >= policy.captcha_after,
        attempts_left=0 if locked else max(policy.max_failures - count, 0),
        failures=count,
    )


def record_failure(
    state: LoginFailures, now: datetime, policy: LockoutPolicy | None = None
) -> tuple[LoginFailures, LockoutDecision]:
    """Register a failed login (wrong password, wrong TOTP, wrong captcha).

    Attempts made while locked are rejected before the password is checked and must not be
    recorded; if one is, the state is returned unchanged so the lock is not extended by an
    attacker hammering the account.

    Returns:
        The new state to store and the decision for the next attempt.
    """
    policy = policy or LockoutPolicy()
    current = assess(state, now, policy)
    if current.locked:
        return state, current
    new_state = LoginFailures(failures=current.failures + 1, last_failure_at=now)
    return new_state, assess(new_state, now, policy)


def record_success() -> LoginFailures:
    """State to store after a successful login: the counter starts again."""
    return LoginFailures()
