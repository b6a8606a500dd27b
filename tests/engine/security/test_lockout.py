from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.security.lockout import LockoutPolicy, LoginFailures, assess, record_failure, record_success

T0 = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
POLICY = LockoutPolicy()


def fail_n(n: int, start: datetime = T0, step: timedelta = timedelta(seconds=10)) -> LoginFailures:
    state = LoginFailures()
    for i in range(n):
        state, _ = record_failure(state, start + i * step, POLICY)
    return state


def test_clean_account() -> None:
    d = assess(LoginFailures(), T0)
    assert not d.locked and not d.captcha_required
    assert d.attempts_left == 5 and d.locked_until is None


def test_captcha_after_first_failure() -> None:
    state, d = record_failure(LoginFailures(), T0, POLICY)
    assert state.failures == 1 and state.last_failure_at == T0
    assert d.captcha_required and not d.locked and d.attempts_left == 4


def test_lock_after_max_failures() -> None:
    state = fail_n(5)
    last = state.last_failure_at
    assert last is not None
    d = assess(state, last + timedelta(minutes=1))
    assert d.locked and d.attempts_left == 0
    assert d.locked_until == last + timedelta(minutes=15)
    assert not assess(fail_n(4), last + timedelta(seconds=1)).locked


def test_lock_expires_and_counter_resets() -> None:
    state = fail_n(5)
    assert state.last_failure_at is not None
    after = state.last_failure_at + timedelta(minutes=15)
    d = assess(state, after)
    assert not d.locked and d.failures == 0 and d.attempts_left == 5 and not d.captcha_required
    state2, d2 = record_failure(state, after, POLICY)
    assert state2.failures == 1 and not d2.locked


def test_failures_while_locked_do_not_extend_lock() -> None:
    state = fail_n(5)
    assert state.last_failure_at is not None
    later = state.last_failure_at + timedelta(minutes=10)
    state2, d = record_failure(state, later, POLICY)
    assert state2 == state and d.locked
    assert d.locked_until == state.last_failure_at + timedelta(minutes=15)


def test_old_failures_are_forgotten_after_window() -> None:
    state = fail_n(3)
    assert state.last_failure_at is not None
    d = assess(state, state.last_failure_at + timedelta(minutes=16))
    assert d.failures == 0 and not d.captcha_required


def test_success_resets() -> None:
    assert record_success() == LoginFailures()


def test_configurable_policy() -> None:
    policy = LockoutPolicy(max_failures=3, lock_minutes=30, captcha_after=2)
    state = LoginFailures()
    state, d = record_failure(state, T0, policy)
    assert not d.captcha_required
    state, d = record_failure(state, T0, policy)
    assert d.captcha_required and d.attempts_left == 1
    state, d = record_failure(state, T0, policy)
    assert d.locked and d.locked_until == T0 + timedelta(minutes=30)
