"""Incidents, webhooks, the message log and the designer are decided by Casbin rules, not role names.

On the demo district with the policy in the database: the seed rule grants, removing it takes the access
away, the wrong role is refused with an `access.denied` audit record.
"""
from __future__ import annotations

import pytest

import engine
from engine.errors import PermissionDenied
from engine.identity.policy import bump_version, remove_rules
from engine.permissions import AccessDenied, is_admin
from tests.engine.identity.conftest import audit_actions, subject_of

OBJECTS = [("incident", "admin"), ("webhook", "admin"), ("message", "read")]


def _remove_rule(ctx, rule: list[str]) -> None:
    def tx(session):
        assert remove_rules(session, "p", [rule]) == 1
        bump_version(ctx, session)

    ctx.db.run(tx)
    engine.authorizer(ctx, force=True)


@pytest.mark.parametrize(("obj", "act"), OBJECTS)
def test_process_and_system_admins_pass_others_are_refused_and_audited(ictx, obj, act):
    for admin in ("liucheng_admin", "xitong_admin"):
        engine.require_allowed_somewhere(ictx, subject_of(ictx, admin), obj, act)
    for other in ("zhangwei", "anquan_admin", "shenji_admin"):
        with pytest.raises(AccessDenied) as refused:
            engine.require_allowed_somewhere(ictx, subject_of(ictx, other), obj, act)
        assert refused.value.audited and refused.value.detail["action"] == f"{obj}.{act}"
        assert audit_actions(ictx, other).count("access.denied") == 1


@pytest.mark.parametrize(("obj", "act"), OBJECTS)
def test_removing_the_rule_removes_the_access(ictx, obj, act):
    process_admin = subject_of(ictx, "liucheng_admin")
    assert engine.allowed_somewhere(ictx, process_admin, obj, act)
    _remove_rule(ictx, ["process_admin", "*", obj, act])
    assert not engine.allowed_somewhere(ictx, process_admin, obj, act)
    assert engine.allowed_somewhere(ictx, subject_of(ictx, "xitong_admin"), obj, act)  # its own rule stays


def test_designer_entry_follows_the_designer_rule(ictx):
    process_admin = subject_of(ictx, "liucheng_admin")
    assert engine.require_designer(ictx, process_admin, "GET /designer/") is process_admin
    with pytest.raises(PermissionDenied):  # the system admin does not design processes
        engine.require_designer(ictx, subject_of(ictx, "xitong_admin"), "GET /designer/")
    assert "designer.denied" in audit_actions(ictx, "xitong_admin")
    _remove_rule(ictx, ["process_admin", "*", "designer", "admin"])
    with pytest.raises(PermissionDenied):
        engine.require_designer(ictx, process_admin, "GET /designer/")


def test_instance_admin_is_the_policy_not_a_settings_list(ictx):
    assert is_admin(ictx, subject_of(ictx, "xitong_admin"), "rmyy_main")  # sys_admin: instance admin in the seed
    process_admin = subject_of(ictx, "liucheng_admin")
    assert is_admin(ictx, process_admin, "rmyy_main")
    assert not is_admin(ictx, subject_of(ictx, "zhangwei"), "rmyy_main")
    _remove_rule(ictx, ["process_admin", "*", "instance", "admin"])
    assert not is_admin(ictx, process_admin, "rmyy_main")


def test_without_an_installed_policy_everything_role_based_is_refused(ictx):
    subject = subject_of(ictx, "liucheng_admin")
    ictx.extras.pop("policy")
    assert not engine.allowed_somewhere(ictx, subject, "incident", "admin")
    assert not is_admin(ictx, subject, "rmyy_main")
