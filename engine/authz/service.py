"""Casbin-backed authorizer that answers decisions in flat time.

Casbin stays the source of truth: policies live in its adapter (the database through
casbin-sqlalchemy-adapter), the model file defines the semantics, and writes go through
the enforcer. On every load the :class:`Authorizer` builds an immutable
:class:`~engine.authz._index.PolicyIndex` from the enforcer's rules, so each decision is a
couple of dict lookups instead of pycasbin's matcher evaluation over every ``p`` rule.

Processes learn about changes made elsewhere through a policy version number (a DB row or a
Redis key): call :meth:`Authorizer.reload_if_changed` at the start of each request or job.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import casbin
from casbin_sqlalchemy_adapter import Adapter

from engine.authz._index import WILDCARD, PolicyIndex

_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_PATH = _ROOT / "policies" / "model.conf"
DEFAULT_SEED_PATH = _ROOT / "policies" / "seed_policy.csv"


def domain_matches(domain: str, pattern: str) -> bool:
    """Domain matching for ``g`` links: ``*`` matches every institution, otherwise equality."""
    return pattern == WILDCARD or domain == pattern


def sqlalchemy_adapter(engine: Any, *, create_table: bool = True) -> Adapter:
    """A casbin-sqlalchemy-adapter on an existing SQLAlchemy engine (table ``casbin_rule``).

    Args:
        engine: SQLAlchemy ``Engine`` (SQLite or PostgreSQL).
        create_table: Create ``casbin_rule`` if missing; pass False once Alembic owns it.
    """
    return Adapter(engine, create_all_models=create_table)


def build_enforcer(adapter: Any, model_path: str | Path = DEFAULT_MODEL_PATH) -> casbin.Enforcer:
    """Create an enforcer for our model, with the ``*`` domain wildcard registered on ``g``.

    Args:
        adapter: Any Casbin adapter, or a CSV file path.
        model_path: The model file; defaults to ``policies/model.conf``.
    """
    enforcer = casbin.Enforcer(str(model_path), adapter if not isinstance(adapter, Path) else str(adapter))
    enforcer.add_named_domain_matching_func("g", domain_matches)
    return enforcer


def read_seed_rules(path: str | Path = DEFAULT_SEED_PATH) -> tuple[list[list[str]], list[list[str]]]:
    """Parse a Casbin CSV policy file into (p rules, g rules), skipping comments and blanks."""
    p_rules: list[list[str]] = []
    g_rules: list[list[str]] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ptype, *values = [part.strip() for part in line.split(",")]
        if ptype == "p" and len(values) == 4:
            p_rules.append(values)
        elif ptype == "g" and len(values) == 3:
            g_rules.append(values)
        else:
            raise ValueError(f"unsupported policy line: {raw!r}")
    return p_rules, g_rules


class _Counter(Protocol):
    def get(self, name: str) -> Any: ...
    def incr(self, name: str) -> int: ...


class InMemoryPolicyVersion:
    """Policy version for a single process (embedded mode, tests)."""

    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    def current(self) -> int:
        """The current version."""
        return self._value

    def bump(self) -> int:
        """Increment and return the new version."""
        with self._lock:
            self._value += 1
            return self._value


class RedisPolicyVersion:
    """Policy version shared by all replicas through a Redis counter (``INCR``)."""

    def __init__(self, redis: _Counter, key: str = "hwf:authz:policy_version") -> None:
        self._redis = redis
        self._key = key

    def current(self) -> int:
        """The current version (0 when the key does not exist yet)."""
        value = self._redis.get(self._key)
        return int(value) if value is not None else 0

    def bump(self) -> int:
        """Atomically increment and return the new version."""
        return int(self._redis.incr(self._key))


class Authorizer:
    """Fast authorization decisions over a Casbin enforcer (RBAC with institution domains).

    Args:
        enforcer: Enforcer built with :func:`build_enforcer` (the ``*`` matcher is registered
            again here in case it was built elsewhere).
        current_version: Returns the shared policy version (DB row, Redis key); enables
            :meth:`reload_if_changed` without an argument.
        bump_version: Increments the shared version and returns it; called after each write
            so other processes reload.
        max_hierarchy_level: Must equal the role manager's limit (pycasbin default 10).
        known_roles: Names that are roles, not users. Every ``p`` subject and ``g`` parent is
            one anyway; this adds leaf roles such as ``doctor`` whose only rule is
            ``g, doctor, staff, *`` (indistinguishable from a global user assignment).
            Defaults to every name in ``policies/seed_policy.csv``.
    """

    def __init__(
        self,
        enforcer: casbin.Enforcer,
        *,
        current_version: Callable[[], int] | None = None,
        bump_version: Callable[[], int] | None = None,
        max_hierarchy_level: int = 10,
        known_roles: Iterable[str] | None = None,
    ) -> None:
        self._enforcer = enforcer
        if known_roles is None:
            p_rules, g_rules = read_seed_rules(DEFAULT_SEED_PATH)
            known_roles = {r[0] for r in p_rules} | {name for g in g_rules for name in g[:2]}
        self._known_roles = frozenset(known_roles)
        self._enforcer.add_named_domain_matching_func("g", domain_matches)
        self._current_version = current_version
        self._bump_version = bump_version
        self._max_level = max_hierarchy_level
        self._lock = threading.RLock()
        self._version = current_version() if current_version else 0
        self._index = self._build_index()

    @property
    def enforcer(self) -> casbin.Enforcer:
        """The wrapped enforcer (source of truth; slow path)."""
        return self._enforcer

    @property
    def policy_version(self) -> int:
        """Version of the policy this process has loaded."""
        return self._version

    # ---- decisions -------------------------------------------------------------------

    def is_allowed(self, user: str, domain: str, obj: str, act: str) -> bool:
        """Whether ``user`` may do ``act`` on ``obj`` in institution ``domain``.

        Agrees with ``enforcer.enforce(user, domain, obj, act)``.
        """
        return self._index.allowed(user, domain, obj, act)

    allowed = is_allowed

    def has_any_role(self, user: str, domain: str, roles: Iterable[str]) -> bool:
        """Whether ``user`` holds any of ``roles`` in ``domain`` (inheritance included).

        This is the primitive for candidate-role checks on a task.
        """
        effective = self._index.effective(user, domain)
        return any(role != user and role in effective for role in roles)

    def roles_of(self, user: str, domain: str, *, inherited: bool = True) -> frozenset[str]:
        """Roles of ``user`` in ``domain``, including ``*`` assignments.

        Args:
            user: User id (employee number).
            domain: Institution.
            inherited: Include roles reached through role inheritance.
        """
        if not inherited:
            return self._index.direct_roles(user, domain)
        return self._index.effective(user, domain) - {user}

    def is_role(self, name: str) -> bool:
        """Whether ``name`` is a role (known role, ``p`` subject or ``g`` parent)."""
        return name in self._index.role_names

    def users_with_role(self, role: str, domain: str) -> frozenset[str]:
        """Users holding ``role`` in ``domain`` directly, by inheritance or through ``*``."""
        return self._index.holders(role, domain)

    def domains_of(self, user: str) -> frozenset[str]:
        """Institutions where ``user`` has a role assignment (``*`` = every institution)."""
        return self._index.domains_of(user)

    # ---- writes ----------------------------------------------------------------------

    def assign_role(self, user: str, role: str, domain: str) -> bool:
        """Give ``user`` ``role`` in ``domain`` (written through the enforcer's adapter).

        Returns:
            False if the assignment already existed.
        """
        with self._lock:
            changed = bool(self._enforcer.add_role_for_user_in_domain(user, role, domain))
            if changed:
                self._after_write()
            return changed

    def revoke_role(self, user: str, role: str, domain: str) -> bool:
        """Remove one assignment.

        Returns:
            False if there was nothing to remove.
        """
        with self._lock:
            changed = bool(self._enforcer.remove_grouping_policy(user, role, domain))
            if changed:
                self._after_write()
            return changed

    def assign_roles(self, assignments: Iterable[tuple[str, str, str]]) -> int:
        """Bulk version of :meth:`assign_role` (user import): one index rebuild, one bump.

        Args:
            assignments: ``(user, role, domain)`` triples.

        Returns:
            Number of assignments that were new.
        """
        with self._lock:
            added = sum(bool(self._enforcer.add_role_for_user_in_domain(*a)) for a in assignments)
            if added:
                self._after_write()
            return added

    def revoke_roles(self, assignments: Iterable[tuple[str, str, str]]) -> int:
        """Bulk version of :meth:`revoke_role`.

        Returns:
            Number of assignments removed.
        """
        with self._lock:
            removed = sum(bool(self._enforcer.remove_grouping_policy(*a)) for a in assignments)
            if removed:
                self._after_write()
            return removed

    def seed(self, path: str | Path = DEFAULT_SEED_PATH) -> int:
        """Add the base policy rules that are missing (idempotent).

        Returns:
            Number of rules added.
        """
        p_rules, g_rules = read_seed_rules(path)
        with self._lock:
            added = 0
            for rule in p_rules:
                added += bool(self._enforcer.add_policy(*rule))
            for rule in g_rules:
                added += bool(self._enforcer.add_grouping_policy(*rule))
            if added:
                self._after_write()
            return added

    # ---- reload ----------------------------------------------------------------------

    def reload(self) -> None:
        """Load the policy from the adapter again and rebuild the index."""
        with self._lock:
            version = self._current_version() if self._current_version else self._version
            self._enforcer.load_policy()
            self._index = self._build_index()
            self._version = version

    def reload_if_changed(self, current_version: int | None = None) -> bool:
        """Reload when the shared policy version differs from the loaded one.

        Args:
            current_version: The shared version if the caller already read it; otherwise
                the ``current_version`` callable given to the constructor is asked.

        Returns:
            True if a reload happened.
        """
        if current_version is None:
            if self._current_version is None:
                return False
            current_version = self._current_version()
        if current_version == self._version:
            return False
        with self._lock:
            if current_version == self._version:
                return False
            # Read the version before loading: a change landing in between is loaded now
            # and merely triggers one more (harmless) reload later.
            self._enforcer.load_policy()
            self._index = self._build_index()
            self._version = current_version
            return True

    def stats(self) -> dict[str, int]:
        """Sizes of the loaded policy (for health pages and the benchmark)."""
        return {"p_rules": self._index.p_count, "g_rules": self._index.g_count, "version": self._version}

    def _build_index(self) -> PolicyIndex:
        return PolicyIndex(
            self._enforcer.get_policy(),
            self._enforcer.get_named_grouping_policy("g"),
            max_hierarchy_level=self._max_level,
            known_roles=self._known_roles,
        )

    def _after_write(self) -> None:
        self._index = self._build_index()
        if self._bump_version is None:
            return
        new_version = self._bump_version()
        # Only adopt it when no other process bumped in between; otherwise stay behind so
        # the next reload_if_changed() picks their change up too.
        if new_version == self._version + 1:
            self._version = new_version
