"""The fast path must give exactly the enforcer's answers."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.authz import DEFAULT_SEED_PATH, Authorizer, build_enforcer, read_seed_rules

OBJECTS = ["task", "instance", "audit", "admin", "designer", "nothing"]
ACTIONS = ["read", "claim", "complete", "transfer", "delegate", "add_signer", "send_back", "withdraw", "urge",
           "cc", "admin", "start", "fly"]


def build_scenario(tmp_path: Path, seed: int) -> tuple[Authorizer, list[str], list[str], list[str]]:
    rng = random.Random(seed)
    p_rules, g_rules = read_seed_rules(DEFAULT_SEED_PATH)
    roles = sorted({r[0] for r in p_rules} | {x for g in g_rules for x in g[:2]})
    domains = [f"inst_{i:02d}" for i in range(6)]
    lines = [f"p, {', '.join(r)}" for r in p_rules] + [f"g, {', '.join(g)}" for g in g_rules]
    # Institution-specific rules the model allows but the seed does not use.
    lines += [
        "p, finance, inst_01, audit, read",  # domain-specific grant
        "p, E0003, *, designer, read",  # user-level grant
        "g, nurse, records_clerk, inst_02",  # inheritance only in one institution
        "g, dept_head, medical_affairs, inst_03",
    ]
    # A chain longer than pycasbin's hierarchy limit (9 hops).
    chain = [f"chain_{i}" for i in range(12)]
    lines += [f"g, {a}, {b}, *" for a, b in zip(chain, chain[1:], strict=False)]
    lines.append("p, chain_11, *, task, claim")
    lines.append("p, chain_8, *, task, read")
    users = [f"E{i:04d}" for i in range(300)]
    for user in users:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            lines.append(f"g, {user}, {rng.choice(roles)}, {rng.choice(domains)}")
    lines += ["g, G001, sys_admin, *", "g, G002, nurse, *", "g, G002, dept_head, inst_03", "g, U900, chain_0, inst_00"]
    users += ["G001", "G002", "U900", "ghost"]
    csv = tmp_path / f"policy_{seed}.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    authz = Authorizer(build_enforcer(csv), known_roles=roles + chain)
    return authz, users, domains + ["inst_unknown", "*"], roles + chain


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_path_agrees_with_enforcer(tmp_path: Path, seed: int) -> None:
    authz, users, domains, roles = build_scenario(tmp_path, seed)
    rng = random.Random(seed * 7919)
    enforcer = authz.enforcer
    granted = [(obj, act) for _, _, obj, act in enforcer.get_policy()]
    allowed = 0
    for _ in range(3000):
        user = rng.choice(users + roles[:5])  # roles are valid subjects too
        obj, act = rng.choice(granted) if rng.random() < 0.6 else (rng.choice(OBJECTS), rng.choice(ACTIONS))
        q = (user, rng.choice(domains), obj, act)
        expected = enforcer.enforce(*q)
        assert authz.is_allowed(*q) == expected, q
        allowed += expected
    assert 100 < allowed < 2900  # the sample exercises both answers


def test_role_closure_agrees_with_role_manager(tmp_path: Path) -> None:
    authz, users, domains, roles = build_scenario(tmp_path, 3)
    rm = authz.enforcer.get_role_manager()
    rng = random.Random(5)
    for _ in range(2000):
        user, domain, role = rng.choice(users), rng.choice(domains), rng.choice(roles)
        assert (role in authz.roles_of(user, domain)) == rm.has_link(user, role, domain), (user, role, domain)


def test_special_cases(tmp_path: Path) -> None:
    authz, *_ = build_scenario(tmp_path, 4)
    e = authz.enforcer
    cases = [
        ("U900", "inst_00", "task", "read"),  # chain_8 is 9 hops away: allowed
        ("U900", "inst_00", "task", "claim"),  # chain_11 is 11 hops away: beyond the limit
        ("E0003", "inst_05", "designer", "read"),
        ("G002", "inst_02", "task", "complete"),
        ("G002", "inst_03", "task", "add_signer"),
        ("G002", "inst_04", "task", "add_signer"),
        ("staff", "inst_01", "task", "claim"),
    ]
    for q in cases:
        assert authz.is_allowed(*q) == e.enforce(*q), q
    assert authz.is_allowed("U900", "inst_00", "task", "read")
    assert not authz.is_allowed("U900", "inst_00", "task", "claim")
    assert authz.roles_of("G002", "inst_02") >= {"nurse", "records_clerk", "staff"}
    assert "records_clerk" not in authz.roles_of("G002", "inst_04")
    assert "G002" in authz.users_with_role("records_clerk", "inst_02")
    assert "G002" not in authz.users_with_role("records_clerk", "inst_04")
    assert "nurse" not in authz.users_with_role("records_clerk", "inst_02")  # roles are not users
