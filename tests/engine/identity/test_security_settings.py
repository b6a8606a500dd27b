"""Security administrators change password, lockout and session policy at run time (seed 003 1.9/1.10/1.15)."""

from __future__ import annotations

import pytest

import engine
from engine.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from tests.engine.identity.conftest import audit_actions, login_as, subject_of


def test_lockout_and_idle_timeout_follow_the_new_values_without_restart(ictx, clock):
    security = subject_of(ictx, "anquan_admin")
    settings = engine.update_security_settings(ictx, security, {"lockout_failures": 3, "lockout_minutes": 2,
                                                                "session_idle_minutes": 5}, reason="等保整改")
    assert (settings["lockout_failures"], settings["session_idle_minutes"]) == (3, 5)
    assert engine.security_settings(ictx, security)["lockout_minutes"] == 2
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            login_as(ictx, password="Wrong@2026hosp")
    with pytest.raises(AuthenticationFailed) as third:
        login_as(ictx, password="Wrong@2026hosp")
    assert third.value.code == "locked"  # after 3, not the default 5
    clock.advance(minutes=2, seconds=1)
    token = login_as(ictx).session_token
    clock.advance(minutes=5, seconds=1)
    assert engine.resolve_session(ictx, token) is None  # idle for 5 minutes, not the default 15
    changed = [a for a in audit_actions(ictx, "anquan_admin") if a == "security.settings"]
    assert changed == ["security.settings"]


def test_longer_minimum_length_applies_to_the_next_password_change(ictx):
    security = subject_of(ictx, "anquan_admin")
    engine.update_security_settings(ictx, security, {"password_min_length": 16}, reason="提高复杂度")
    with pytest.raises(ValidationFailed) as short:
        engine.reset_password(ictx, security, "zhangwei", new_password="Short@2026hosp", reason="重置")
    assert short.value.errors[0].validator == "too_short"


def test_values_outside_the_allowed_range_unknown_names_and_no_reason_are_refused(ictx):
    security = subject_of(ictx, "anquan_admin")
    with pytest.raises(ValidationFailed) as bad:
        engine.update_security_settings(ictx, security, {"password_min_length": 6, "lockout_minutes": "x",
                                                         "secret_key": 1}, reason="核对取值")
    assert {(e.pointer, e.validator) for e in bad.value.errors} == {
        ("/password_min_length", "range"), ("/lockout_minutes", "type"), ("/secret_key", "unknown")}
    with pytest.raises(ValidationFailed):
        engine.update_security_settings(ictx, security, {"lockout_failures": 4}, reason=" ")
    assert engine.security_settings(ictx, security)["lockout_failures"] == 5


def test_only_security_administrators_may_change_them(ictx):
    for who in ("xitong_admin", "shenji_admin", "zhangwei"):
        with pytest.raises(PermissionDenied):
            engine.update_security_settings(ictx, subject_of(ictx, who), {"lockout_failures": 4}, reason="试")
    assert "access.denied" in audit_actions(ictx, "xitong_admin")
