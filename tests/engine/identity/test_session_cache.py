"""The in-process session cache (engine/identity/session_cache.py): used only while nothing could have changed
the answer — SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import update

import engine
from engine.identity.session_cache import written_table
from engine.models import User
from tests.engine.identity.conftest import login_as, prepare, subject_of


@pytest.fixture
def cctx(ictx):
    """The demo district with the cache on and a policy check that stays fresh for the whole test."""
    return prepare(ictx, session_cache_seconds=60.0, policy_reload_seconds=60.0)


def _resolved(ctx, who: str = "zhangwei") -> tuple[str, engine.SessionInfo]:
    token = login_as(ctx, who).session_token
    info = engine.resolve_session(ctx, token)
    assert info is not None
    return token, info


def test_a_resolved_session_is_answered_from_memory(cctx):
    token, info = _resolved(cctx)
    assert engine.cached_session(cctx, token) is info
    assert engine.cached_session(cctx, token + "x") is None  # unknown tokens are never answered here
    assert engine.cached_session(cctx, None) is None


def test_logout_deactivation_and_role_changes_drop_it_at_once(cctx):
    token, _ = _resolved(cctx)
    assert engine.logout(cctx, token)
    assert engine.cached_session(cctx, token) is None and engine.resolve_session(cctx, token) is None

    token, info = _resolved(cctx)
    engine.revoke_role(cctx, subject_of(cctx, "xitong_admin"), "zhangwei", "doctor", "rmyy_main", reason="调岗")
    assert engine.cached_session(cctx, token) is None
    assert "doctor" not in engine.resolve_session(cctx, token).subject.roles.get("rmyy_main", ())

    token, info = _resolved(cctx)
    engine.set_user_active(cctx, subject_of(cctx, "xitong_admin"), info.user_id, False, reason="离职")
    assert engine.cached_session(cctx, token) is None and engine.resolve_session(cctx, token) is None


def test_a_write_outside_the_engine_commands_drops_it_too(cctx):
    token, _ = _resolved(cctx)
    with cctx.db.unit_of_work() as session:
        session.execute(update(User).where(User.username == "zhangwei").values(active=False))
    assert engine.cached_session(cctx, token) is None and engine.resolve_session(cctx, token) is None


def test_never_past_the_next_touch_or_the_idle_end(cctx, clock):
    token, _ = _resolved(cctx)
    clock.advance(seconds=59)
    assert engine.cached_session(cctx, token) is not None
    clock.advance(seconds=2)  # last_seen is due: the database answers and writes it
    assert engine.cached_session(cctx, token) is None
    assert engine.resolve_session(cctx, token) is not None
    assert engine.cached_session(cctx, token) is not None
    clock.advance(minutes=16)
    assert engine.cached_session(cctx, token) is None and engine.resolve_session(cctx, token) is None


def test_one_session_touching_last_seen_keeps_the_others(cctx, clock):
    first, _ = _resolved(cctx, "zhangwei")
    clock.advance(seconds=50)
    second, _ = _resolved(cctx, "xuming")
    clock.advance(seconds=15)
    assert engine.resolve_session(cctx, first) is not None  # touch: an UPDATE of sessions that changes no answer
    assert engine.cached_session(cctx, second) is not None


def test_off_when_the_setting_is_zero_or_the_policy_check_is_due(ictx):
    prepare(ictx, session_cache_seconds=0.0, policy_reload_seconds=60.0)
    token, _ = _resolved(ictx)
    assert engine.cached_session(ictx, token) is None
    prepare(ictx, session_cache_seconds=60.0, policy_reload_seconds=0.0)  # roles may be stale: ask the database
    token, _ = _resolved(ictx)
    assert engine.cached_session(ictx, token) is None


@pytest.mark.parametrize(("statement", "table"), [
    ("UPDATE sessions SET last_seen_at=%(last_seen_at)s WHERE sessions.id = %(id_1)s", "sessions"),
    ('DELETE FROM "users" WHERE users.id = ?', "users"),
    ("INSERT INTO casbin_rule (ptype, v0) VALUES (?, ?)", "casbin_rule"),
    ("\n  update public.policy_version set version = version + 1", "policy_version"),
    ("INSERT INTO audit_records(seq) VALUES (1)", "audit_records"),
    ("SELECT sessions.id FROM sessions", None),
    ("WITH x AS (SELECT 1) SELECT * FROM x", None),
])
def test_written_table(statement, table):
    assert written_table(statement) == table
