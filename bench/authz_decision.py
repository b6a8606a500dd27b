"""Per-decision latency: plain ``enforcer.enforce`` vs :class:`engine.authz.Authorizer`.

Scenario: 26 institutions × 20 roles × 1,000 users per institution (≈26k ``g`` rules,
10% of users hold a second role, a few global admins), base policy from
``policies/seed_policy.csv``. Policies are loaded from a CSV file so the numbers measure
decisions, not the database.

Run: ``PYTHONPATH=. python bench/authz_decision.py [--queries 20000]``
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from engine.authz import DEFAULT_SEED_PATH, Authorizer, build_enforcer, read_seed_rules

INSTITUTIONS = 26
USERS_PER_INSTITUTION = 1000
EXTRA_ROLES = ["pharmacist", "lab_technician"]  # bench-only, to reach 20 roles


def build_policy_file(directory: Path, rng: random.Random) -> tuple[Path, list[tuple[str, str]], list[str]]:
    p_rules, g_rules = read_seed_rules(DEFAULT_SEED_PATH)
    roles = sorted({r[0] for r in p_rules} | {x for g in g_rules for x in g[:2]}) + EXTRA_ROLES
    assert len(roles) == 20, roles
    lines = [f"p, {', '.join(r)}" for r in p_rules] + [f"g, {', '.join(g)}" for g in g_rules]
    lines += [f"g, {r}, staff, *" for r in EXTRA_ROLES]
    members: list[tuple[str, str]] = []
    for i in range(INSTITUTIONS):
        dom = f"inst_{i:02d}"
        for j in range(USERS_PER_INSTITUTION):
            user = f"E{i:02d}{j:04d}"
            lines.append(f"g, {user}, {rng.choice(roles)}, {dom}")
            if rng.random() < 0.1:
                lines.append(f"g, {user}, {rng.choice(roles)}, {dom}")
            members.append((user, dom))
    for k in range(3):
        lines.append(f"g, ADMIN{k}, sys_admin, *")
    path = directory / "bench_policy.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, members, [f"inst_{i:02d}" for i in range(INSTITUTIONS)]


def make_queries(n: int, members: list[tuple[str, str]], domains: list[str], granted: list[tuple[str, str]],
                 rng: random.Random) -> list[tuple[str, str, str, str]]:
    queries = []
    for _ in range(n):
        user, dom = rng.choice(members)
        if rng.random() < 0.2:  # cross-institution look-ups (referral) and admins
            dom = rng.choice(domains)
        if rng.random() < 0.01:
            user = f"ADMIN{rng.randrange(3)}"
        obj, act = rng.choice(granted)
        queries.append((user, dom, obj, act))
    return queries


def timed(fn, queries) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    clock = time.perf_counter_ns
    for q in queries:
        t0 = clock()
        fn(*q)
        samples.append((clock() - t0) / 1e6)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.fmean(samples), ordered[int(len(ordered) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=20000, help="decisions for the Authorizer")
    parser.add_argument("--enforce-queries", type=int, default=2000, help="decisions for plain enforce")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        path, members, domains = build_policy_file(Path(tmp), rng)
        t0 = time.perf_counter()
        enforcer = build_enforcer(path)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        authz = Authorizer(enforcer)
        t_index = time.perf_counter() - t0

    granted = sorted({(obj, act) for _, _, obj, act in enforcer.get_policy()})
    queries = make_queries(max(args.queries, args.enforce_queries), members, domains, granted, rng)
    enforce_queries = queries[: args.enforce_queries]

    # Warm-up: pycasbin builds one role manager per institution lazily on first use.
    t0 = time.perf_counter()
    for dom in domains:
        enforcer.enforce(members[0][0], dom, "task", "read")
    t_warm = time.perf_counter() - t0

    mismatches = sum(enforcer.enforce(*q) != authz.is_allowed(*q) for q in enforce_queries)
    e_samples = timed(enforcer.enforce, enforce_queries)
    a_samples = timed(authz.is_allowed, queries[: args.queries])
    hr_samples = timed(lambda u, d, o, a: authz.has_any_role(u, d, ("doctor", "nurse")), queries[: args.queries])

    e_mean, e_p95 = summary(e_samples)
    a_mean, a_p95 = summary(a_samples)
    h_mean, h_p95 = summary(hr_samples)
    stats = authz.stats()
    print(f"scenario: {INSTITUTIONS} institutions x 20 roles x {USERS_PER_INSTITUTION} users/institution; "
          f"p rules={stats['p_rules']} g rules={stats['g_rules']}")
    print(f"setup: enforcer load {t_load * 1000:.0f} ms, index build {t_index * 1000:.0f} ms, "
          f"enforcer role-manager warm-up {t_warm * 1000:.0f} ms")
    print(f"agreement on {len(enforce_queries)} queries: {len(enforce_queries) - mismatches} agree, "
          f"{mismatches} differ; allowed share "
          f"{sum(authz.is_allowed(*q) for q in enforce_queries) / len(enforce_queries):.0%}")
    print(f"{'path':<28}{'n':>8}{'mean ms':>12}{'p95 ms':>12}")
    print(f"{'enforcer.enforce':<28}{len(e_samples):>8}{e_mean:>12.4f}{e_p95:>12.4f}")
    print(f"{'Authorizer.is_allowed':<28}{len(a_samples):>8}{a_mean:>12.4f}{a_p95:>12.4f}")
    print(f"{'Authorizer.has_any_role':<28}{len(hr_samples):>8}{h_mean:>12.4f}{h_p95:>12.4f}")
    print(f"speed-up (enforce / Authorizer): mean x{e_mean / a_mean:.0f}, p95 x{e_p95 / a_p95:.0f}")
    print(f"target < 0.2 ms per decision: {'met' if a_p95 < 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
