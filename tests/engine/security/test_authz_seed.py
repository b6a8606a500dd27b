"""Sanity of the shipped Casbin model and base policy."""
from __future__ import annotations

from engine.authz import DEFAULT_SEED_PATH, read_seed_rules

ROLES = {
    "sys_admin", "security_admin", "audit_admin", "process_admin", "dept_head", "staff", "doctor", "nurse",
    "records_clerk", "records_head", "medical_affairs", "finance", "cashier", "referral_office",
    "admission_center", "anesthetist", "community_doctor", "expert",
}
OBJECTS = {"task", "instance", "audit", "admin", "designer", "identity", "security", "pii", "admin_role",
           "incident", "webhook", "message"}
ACTIONS = {"read", "claim", "complete", "transfer", "delegate", "add_signer", "send_back", "withdraw", "urge",
           "cc", "admin", "start"}


def test_seed_uses_known_roles_objects_actions() -> None:
    p_rules, g_rules = read_seed_rules(DEFAULT_SEED_PATH)
    assert {sub for sub, *_ in p_rules} <= ROLES
    assert {obj for _, _, obj, _ in p_rules} == OBJECTS
    assert {act for *_, act in p_rules} == ACTIONS
    assert {dom for _, dom, *_ in p_rules} == {"*"}
    mentioned = {sub for sub, *_ in p_rules} | {r for rule in g_rules for r in rule[:2]}
    assert mentioned == ROLES
    assert all(dom == "*" for *_, dom in g_rules)
    assert ["records_head", "records_clerk", "*"] in g_rules


def test_only_audit_admin_reads_audit() -> None:
    p_rules, _ = read_seed_rules(DEFAULT_SEED_PATH)
    assert [r for r in p_rules if r[2] == "audit"] == [["audit_admin", "*", "audit", "read"]]


def test_admin_roles_do_not_inherit_staff() -> None:
    _, g_rules = read_seed_rules(DEFAULT_SEED_PATH)
    children = {child for child, *_ in g_rules}
    assert not children & {"sys_admin", "security_admin", "audit_admin", "process_admin"}
