"""Login, lockout, password rules, TOTP, sessions (idle + absolute timeout) — SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

import engine
from engine.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from engine.identity._common import PRIVILEGED_ROLES
from engine.models import UnknownLoginFailures, User
from engine.security import totp
from tests.engine.identity.conftest import (
    FAST_HASHER,
    PASSWORD,
    audit_actions,
    login_as,
    solve_captcha,
    subject_of,
    with_settings,
)


def test_login_by_username_or_employee_number_builds_roles_per_institution(ictx):
    for ident in ("zhangwei", "E1001"):
        result = login_as(ictx, ident)
        assert result.status == "ok" and result.session_token and result.csrf_token
    subject = engine.resolve_session(ictx, result.session_token).subject
    assert subject.roles == {"rmyy_main": frozenset({"doctor", "staff"})}
    xuming = subject_of(ictx, "xuming")
    assert "expert" in xuming.roles["zyy"] and "doctor" in xuming.roles["rmyy_main"]
    assert "login.success" in audit_actions(ictx, "zhangwei")


def test_wrong_password_asks_for_captcha_then_locks_after_five(ictx, clock):
    with pytest.raises(AuthenticationFailed) as first:
        login_as(ictx, password="Wrong@2026hosp")
    assert first.value.code == "bad_credentials" and first.value.detail["captcha_required"] is True
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            login_as(ictx, password="Wrong@2026hosp")
    with pytest.raises(AuthenticationFailed) as fifth:
        login_as(ictx, password="Wrong@2026hosp")
    assert fifth.value.code == "locked" and "locked_until" in fifth.value.detail
    with pytest.raises(AuthenticationFailed) as correct_but_locked:
        login_as(ictx)
    assert correct_but_locked.value.code == "locked"
    assert "account.locked" in audit_actions(ictx, "zhangwei")
    clock.advance(minutes=15, seconds=1)
    assert login_as(ictx).status == "ok"


def test_unknown_user_is_bad_credentials_and_audited(ictx):
    with pytest.raises(AuthenticationFailed) as exc:
        login_as(ictx, "nobody")
    assert exc.value.code == "bad_credentials"
    assert audit_actions(ictx, "anonymous")[-1] == "login.failed"


def _answers(ctx, identifier: str) -> list[tuple[str, dict]]:
    """What six wrong logins without captcha answer (code and details)."""
    answers = []
    for _ in range(6):
        with pytest.raises(AuthenticationFailed) as refused:
            login_as(ctx, identifier, password="Wrong@2026hosp")
        detail = {k: v for k, v in refused.value.detail.items() if k != "locked_until"}
        answers.append((refused.value.code, detail))
    return answers


def test_unknown_names_get_the_same_answers_as_real_accounts(ictx, clock):
    """Seed 003 1.x: the login must not tell an attacker which accounts exist."""
    real = _answers(ictx, "zhangwei")
    assert [code for code, _ in real] == ["bad_credentials"] + ["bad_captcha"] * 3 + ["locked"] * 2
    assert _answers(ictx, "nobody") == real
    assert _answers(ictx, " NoBody2 ") == real  # a fresh name starts its own counter too
    with ictx.db.unit_of_work() as s:  # counters are keyed by a keyed hash, never the typed name
        stored = s.scalars(select(UnknownLoginFailures.identifier_hash)).all()
    assert len(stored) == 2 and not {"nobody", "nobody2"} & set(stored)
    clock.advance(minutes=15, seconds=1)  # the lock runs out as a real account's does
    with pytest.raises(AuthenticationFailed) as again:
        login_as(ictx, "nobody", password="Wrong@2026hosp")
    assert again.value.code == "bad_credentials"
    assert audit_actions(ictx, "anonymous").count("account.locked") == 2


def test_admin_unlock_is_security_admin_only(ictx):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login_as(ictx, password="Wrong@2026hosp")
    sys_admin = subject_of(ictx, "xitong_admin")
    with pytest.raises(PermissionDenied):
        engine.unlock_user(ictx, sys_admin, "zhangwei", reason="用户来电")
    assert audit_actions(ictx, "xitong_admin")[-1] == "access.denied"
    security = subject_of(ictx, "anquan_admin")
    with pytest.raises(ValidationFailed):
        engine.unlock_user(ictx, security, "zhangwei", reason="")
    engine.unlock_user(ictx, security, "zhangwei", reason="用户来电核实身份")
    assert login_as(ictx).status == "ok"
    assert "user.unlocked" in audit_actions(ictx, "anquan_admin")


def test_weak_and_reused_passwords_are_refused(ictx):
    subject = subject_of(ictx, "zhangwei")
    for weak, code in (
        ("short1!A", "too_short"),
        ("alllowercase1", "too_few_classes"),
        ("Zhangwei@2026x", "contains_username"),
        (PASSWORD, "reused"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            engine.change_password(ictx, subject, PASSWORD, weak)
        assert code in {e.validator for e in exc.value.errors}
    history = [PASSWORD]
    for i in range(5):
        new = f"Hosp#{i}2026pass"
        engine.change_password(ictx, subject, history[-1], new)
        history.append(new)
    # the first password has dropped out of the last five; the second has not
    with pytest.raises(ValidationFailed):
        engine.change_password(ictx, subject, history[-1], history[2])
    engine.change_password(ictx, subject, history[-1], PASSWORD)


def test_wrong_current_password_counts_toward_lockout(ictx):
    subject = subject_of(ictx, "zhangwei")
    with pytest.raises(AuthenticationFailed):
        engine.change_password(ictx, subject, "Wrong@2026hosp", "Brand#New2026x")
    with ictx.db.unit_of_work() as s:
        assert s.scalars(select(User.failures).where(User.username == "zhangwei")).one() == 1


def test_first_login_forces_password_change_and_session_has_no_roles(ictx):
    admin = subject_of(ictx, "xitong_admin")
    engine.create_user(
        ictx,
        admin,
        username="newnurse",
        employee_no="E7001",
        display_name="新护士",
        institution_code="zyy",
        initial_password="First#Login2026",
        reason="入职",
    )
    engine.assign_role(ictx, admin, "newnurse", "nurse", "zyy", reason="入职")
    result = login_as(ictx, "newnurse", "First#Login2026")
    assert result.status == "password_change_required"
    info = engine.resolve_session(ictx, result.session_token)
    assert info.must_change_password and info.subject.roles == {}
    engine.change_password(
        ictx, info.subject, "First#Login2026", "Second#Login2026", session_token=result.session_token
    )
    info = engine.resolve_session(ictx, result.session_token)
    assert not info.must_change_password and "nurse" in info.subject.roles["zyy"]


def test_stored_password_failing_todays_policy_forces_change(ictx):
    weak = FAST_HASHER.hash("weakpass")
    with ictx.db.unit_of_work() as s:
        s.execute(
            update(User)
            .where(User.username == "wangfang")
            .values(password_hash=weak, password_history=[weak])
        )
    assert login_as(ictx, "wangfang", "weakpass").status == "password_change_required"


def test_password_expiry_warning_then_forced_change(ictx, clock):
    clock.advance(days=85)
    result = login_as(ictx)
    assert result.status == "ok" and result.password_expiry_warning_days == 5
    clock.advance(days=6)
    assert login_as(ictx).status == "password_change_required"


def test_account_expiry_warns_then_refuses(ictx, clock):
    with ictx.db.unit_of_work() as s:
        s.execute(
            update(User)
            .where(User.username == "zhangwei")
            .values(expires_at=clock.now() + timedelta(days=10))
        )
    assert login_as(ictx).account_expiry_warning_days == 10
    token = login_as(ictx).session_token
    clock.advance(days=10)
    with pytest.raises(AuthenticationFailed) as exc:
        login_as(ictx)
    assert exc.value.code == "account_expired"
    assert engine.resolve_session(ictx, token) is None


def test_inactive_account_refused_only_after_correct_password(ictx):
    admin = subject_of(ictx, "xitong_admin")
    engine.set_user_active(ictx, admin, "zhangwei", False, reason="离职")
    with pytest.raises(AuthenticationFailed) as wrong:
        login_as(ictx, password="Wrong@2026hosp")
    assert wrong.value.code == "bad_credentials"
    with pytest.raises(AuthenticationFailed) as right:
        login_as(ictx, **solve_captcha(ictx))
    assert right.value.code == "inactive"


# Every privileged role (engine.identity._common.PRIVILEGED_ROLES) by its demo holder.
ADMINS = [("xitong_admin", "sys_admin"), ("anquan_admin", "security_admin"), ("shenji_admin", "audit_admin"),
          ("liucheng_admin", "process_admin")]


def test_every_privileged_role_is_covered_by_the_totp_test():
    assert {role for _, role in ADMINS} == PRIVILEGED_ROLES


@pytest.mark.parametrize(("admin", "role"), ADMINS)
def test_totp_required_for_admin_roles_outside_development(ictx, clock, admin, role):
    prod = with_settings(ictx, environment="production")
    first = engine.login(prod, admin, PASSWORD, ip="10.0.0.9")
    assert first.status == "totp_enrollment_required"
    info = engine.resolve_session(prod, first.session_token)
    assert role not in info.subject.roles.get("*", ())  # withheld until the second factor
    enrolment = engine.enroll_totp(prod, info.subject)
    with pytest.raises(AuthenticationFailed):
        engine.confirm_totp(prod, info.subject, "000000", session_token=first.session_token)
    engine.confirm_totp(
        prod,
        info.subject,
        totp.code_at(enrolment.secret, totp.time_step(clock.now())),
        session_token=first.session_token,
    )
    assert role in engine.resolve_session(prod, first.session_token).subject.roles["*"]

    clock.advance(seconds=31)
    assert engine.login(prod, admin, PASSWORD, ip="10.0.0.9").status == "totp_required"
    with pytest.raises(AuthenticationFailed) as bad:
        engine.login(prod, admin, PASSWORD, ip="10.0.0.9", totp_code="123456")
    assert bad.value.code == "bad_totp"
    code = totp.code_at(enrolment.secret, totp.time_step(clock.now()))
    ok = engine.login(prod, admin, PASSWORD, ip="10.0.0.9", totp_code=code, **solve_captcha(prod))
    assert ok.status == "ok"  # a wrong code is a failed attempt: the next login needs the captcha
    with pytest.raises(AuthenticationFailed):  # the same code cannot be replayed
        engine.login(prod, admin, PASSWORD, ip="10.0.0.9", totp_code=code)
    # staff never need it
    assert engine.login(prod, "zhangwei", PASSWORD, ip="10.0.0.9").status == "ok"


def test_idle_timeout_and_touch(ictx, clock):
    token = login_as(ictx).session_token
    clock.advance(minutes=10)
    assert engine.resolve_session(ictx, token) is not None  # touches last_seen
    clock.advance(minutes=14)
    assert engine.resolve_session(ictx, token) is not None
    clock.advance(minutes=15)
    assert engine.resolve_session(ictx, token) is None
    assert "session.idle_timeout" in audit_actions(ictx, "zhangwei")
    assert engine.resolve_session(ictx, token) is None


def test_absolute_lifetime_ends_an_active_session(ictx, clock):
    token = login_as(ictx).session_token
    for _ in range(ictx.settings.session_absolute_hours * 6 - 1):
        clock.advance(minutes=10)
        assert engine.resolve_session(ictx, token) is not None
    clock.advance(minutes=10)
    assert engine.resolve_session(ictx, token) is None
    assert "session.absolute_timeout" in audit_actions(ictx, "zhangwei")


def test_logout_ends_the_session(ictx):
    token = login_as(ictx).session_token
    assert engine.logout(ictx, token) is True
    assert engine.resolve_session(ictx, token) is None
    assert engine.logout(ictx, token) is False


def test_after_a_wrong_password_the_captcha_is_checked_first_and_used_once(ictx, clock):
    with pytest.raises(AuthenticationFailed) as first:
        login_as(ictx, password="Wrong@2026hosp")
    assert first.value.detail["captcha_required"]
    with pytest.raises(AuthenticationFailed) as missing:
        login_as(ictx)  # the right password alone is not enough now
    assert missing.value.code == "bad_captcha"
    challenge = solve_captcha(ictx)
    with pytest.raises(AuthenticationFailed) as wrong:
        login_as(ictx, captcha_id=challenge["captcha_id"], captcha_answer="ZZZZ")
    assert wrong.value.code == "bad_captcha"
    with pytest.raises(AuthenticationFailed) as reused:  # the challenge was used by the wrong answer
        login_as(ictx, **challenge)
    assert reused.value.code == "bad_captcha"
    late = solve_captcha(ictx)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(AuthenticationFailed) as expired:
        login_as(ictx, **late)
    assert expired.value.code == "locked"  # the fifth failure in a row
    clock.advance(minutes=15, seconds=1)
    assert login_as(ictx, **solve_captcha(ictx)).status == "ok"
    assert audit_actions(ictx, "zhangwei").count("login.failed") == 5
