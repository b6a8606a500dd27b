"""Casbin policy in our own database: adapter, versioned writes, the shared Authorizer, decisions.

Why not casbin-sqlalchemy-adapter: it opens and commits its own sessions, so a role change
and its audit record could not commit together. Here policy rows are ordinary rows of our
MetaData (table ``casbin_rule``, owned by Alembic); a change writes the rows, bumps the
``policy_version`` row and appends the audit record in one transaction. Every process keeps an
:class:`~engine.authz.Authorizer` (flat index over the enforcer) and calls
:func:`authorizer` before decisions, which reloads when the version moved (checked at most
every ``settings.policy_reload_seconds``).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from casbin import persist
from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from engine.authz import DEFAULT_MODEL_PATH, WILDCARD, Authorizer, build_enforcer, read_seed_rules
from engine.context import EngineContext
from engine.errors import PermissionDenied
from engine.identity._common import now, record, record_now
from engine.models import CasbinRule, Institution, PolicyVersion
from engine.subject import Subject

_COLUMNS = ("v0", "v1", "v2", "v3", "v4", "v5")
_INIT_LOCK = threading.Lock()
_bound_session: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "casbin_session", default=None
)


class DbPolicyAdapter(persist.Adapter):  # type: ignore[misc]
    """Casbin adapter over our session factory.

    Loading opens its own short read transaction. Writes through the enforcer are only allowed
    inside :meth:`bound` so they join the caller's transaction (and its audit record).
    """

    def __init__(self, sessions: Any) -> None:
        self._sessions = sessions

    @contextmanager
    def bound(self, session: Session) -> Iterator[None]:
        token = _bound_session.set(session)
        try:
            yield
        finally:
            _bound_session.reset(token)

    def load_policy(self, model: Any) -> None:
        with self._sessions() as session:
            rows = session.scalars(select(CasbinRule).order_by(CasbinRule.id)).all()
            for row in rows:
                values = [getattr(row, c) for c in _COLUMNS]
                while values and values[-1] is None:
                    values.pop()
                persist.load_policy_line(", ".join([row.ptype, *values]), model)

    def _session(self) -> Session:
        session = _bound_session.get()
        if session is None:
            raise RuntimeError("policy writes must run inside an engine command (adapter.bound)")
        return session

    def save_policy(self, model: Any) -> bool:
        session = self._session()
        session.execute(delete(CasbinRule))
        for sec in ("p", "g"):
            for ptype, assertion in model.model.get(sec, {}).items():
                add_rules(session, ptype, assertion.policy)
        return True

    def add_policy(self, sec: str, ptype: str, rule: Sequence[str]) -> None:
        add_rules(self._session(), ptype, [rule])

    def add_policies(self, sec: str, ptype: str, rules: Iterable[Sequence[str]]) -> None:
        add_rules(self._session(), ptype, rules)

    def remove_policy(self, sec: str, ptype: str, rule: Sequence[str]) -> bool:
        return remove_rules(self._session(), ptype, [rule]) > 0

    def remove_policies(self, sec: str, ptype: str, rules: Iterable[Sequence[str]]) -> bool:
        return remove_rules(self._session(), ptype, rules) > 0

    def remove_filtered_policy(self, sec: str, ptype: str, field_index: int, *field_values: str) -> bool:
        conds = [CasbinRule.ptype == ptype]
        for offset, value in enumerate(field_values):
            if value:
                conds.append(getattr(CasbinRule, _COLUMNS[field_index + offset]) == value)
        return self._session().execute(delete(CasbinRule).where(and_(*conds))).rowcount > 0


def _where(ptype: str, rule: Sequence[str]) -> Any:
    conds = [CasbinRule.ptype == ptype]
    for i, column in enumerate(_COLUMNS):
        value = rule[i] if i < len(rule) else None
        col = getattr(CasbinRule, column)
        conds.append(col.is_(None) if value is None else col == value)
    return and_(*conds)


def _present(session: Session, ptype: str, heads: list[str]) -> set[tuple[str, ...]]:
    """The stored rules of `ptype` whose first value is one of `heads` (index ix_casbin_rule_lookup)."""
    found: set[tuple[str, ...]] = set()
    for i in range(0, len(heads), 500):
        query = select(CasbinRule).where(CasbinRule.ptype == ptype, CasbinRule.v0.in_(heads[i:i + 500]))
        found |= {tuple(v for v in (getattr(r, c) for c in _COLUMNS) if v is not None)
                  for r in session.scalars(query)}
    return found


def add_rules(session: Session, ptype: str, rules: Iterable[Sequence[str]]) -> int:
    """Insert rules that are not present yet; returns how many were new (flushed, not committed).

    Existing rules are read in one query per 500 subjects rather than one per rule: the demo loader and
    CSV imports add hundreds at once.
    """
    wanted = [tuple(rule) for rule in rules]
    present = _present(session, ptype, sorted({rule[0] for rule in wanted}))
    added = 0
    for rule in wanted:
        if rule in present:
            continue
        session.add(CasbinRule(ptype=ptype, **{c: rule[i] for i, c in enumerate(_COLUMNS) if i < len(rule)}))
        present.add(rule)
        added += 1
    session.flush()
    return added


def remove_rules(session: Session, ptype: str, rules: Iterable[Sequence[str]]) -> int:
    """Delete rules; returns how many rows went."""
    return sum(session.execute(delete(CasbinRule).where(_where(ptype, r))).rowcount for r in rules)


def list_rules(session: Session, ptype: str | None = None) -> list[list[str]]:
    query = select(CasbinRule).order_by(CasbinRule.ptype.desc(), CasbinRule.id)
    if ptype:
        query = query.where(CasbinRule.ptype == ptype)
    return [
        [r.ptype, *[v for v in (getattr(r, c) for c in _COLUMNS) if v is not None]]
        for r in session.scalars(query).all()
    ]


def read_version(session: Session) -> int:
    return session.scalar(select(PolicyVersion.version).where(PolicyVersion.id == 1)) or 0


def bump_version(ctx: EngineContext, session: Session) -> None:
    """Increment the shared policy version in the caller's transaction."""
    changed = session.execute(
        update(PolicyVersion)
        .where(PolicyVersion.id == 1)
        .values(version=PolicyVersion.version + 1, updated_at=now(ctx))
    ).rowcount
    if not changed:
        session.add(PolicyVersion(id=1, version=1, updated_at=now(ctx)))
        session.flush()


def seed_rules(ctx: EngineContext, session: Session, path: Any = None) -> int:
    """Add the base rules of ``policies/seed_policy.csv`` that are missing (idempotent)."""
    p_rules, g_rules = read_seed_rules(path or ctx.settings.policies_dir / "seed_policy.csv")
    added = add_rules(session, "p", p_rules) + add_rules(session, "g", g_rules)
    if added:
        bump_version(ctx, session)
        record(
            ctx,
            session,
            actor="system",
            action="policy.seed",
            reason="基础策略初始化",
            details={"added": added},
        )
    return added


def seed_policy(ctx: EngineContext) -> int:
    """Seed the base Casbin policy into the database (run by ``migrate`` and the demo loader).

    Returns:
        Number of rules added (0 when already seeded).
    """
    added = ctx.db.run(lambda s: seed_rules(ctx, s))
    if added:
        authorizer(ctx, force=True)
    return added


class _ThrottledVersion:
    """Reads the version row at most once per ``interval`` seconds (monotonic time)."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._checked = -1e18
        self._value = 0
        self._lock = threading.Lock()

    @property
    def checked_at(self) -> float:
        """``time.monotonic()`` of the last read of the version row."""
        return self._checked

    def current(self, *, force: bool = False) -> int:
        interval = self._ctx.settings.policy_reload_seconds
        with self._lock:
            if force or time.monotonic() - self._checked >= interval:
                self._value = self._ctx.db.read(read_version)
                self._checked = time.monotonic()
            return self._value


def authorizer(ctx: EngineContext, *, force: bool = False) -> Authorizer:
    """The process's Authorizer over the database policy, reloaded when the version moved.

    Args:
        ctx: Engine context; the Authorizer is cached in ``ctx.extras['authorizer']``.
        force: Read the version row now instead of trusting the throttle (after own writes).
    """
    state = ctx.extras.get("_authz_state")
    if state is None:
        with _INIT_LOCK:
            if "_authz_state" not in ctx.extras:
                return _create_authorizer(ctx)
            state = ctx.extras["_authz_state"]
    authz, version, _ = state
    authz.reload_if_changed(version.current(force=force))
    return authz


def policy_checked_at(ctx: EngineContext) -> float:
    """``time.monotonic()`` of this process's last policy version read (-inf before the first)."""
    state = ctx.extras.get("_authz_state")
    return state[1].checked_at if state is not None else float("-inf")


def loaded_authorizer(ctx: EngineContext) -> Authorizer:
    """The Authorizer as last refreshed, without touching the database once it is loaded.

    Commands refresh with :func:`authorizer` before opening their transaction and use this inside it,
    so one command sees one policy. The first use in a fresh process (a CLI run, a worker) loads the
    policy here; that load runs in read-only transactions (`Database.reading`), which on SQLite do not
    wait for the caller's own write transaction.
    """
    state = ctx.extras.get("_authz_state")
    return state[0] if state is not None else authorizer(ctx)


def _create_authorizer(ctx: EngineContext) -> Authorizer:
    version = _ThrottledVersion(ctx)
    adapter = DbPolicyAdapter(ctx.db.reading)
    # Version first, then load: a change landing in between only causes one extra reload.
    loaded = version.current(force=True)
    model = ctx.settings.policies_dir / "model.conf"
    enforcer = build_enforcer(adapter, model if model.exists() else DEFAULT_MODEL_PATH)
    authz = Authorizer(enforcer, current_version=lambda: loaded)
    ctx.extras["_authz_state"] = (authz, version, adapter)
    ctx.extras["authorizer"] = authz
    install_policy_hook(ctx)
    return authz


def decide(authz: Authorizer, subject: Subject, institution: str, obj: str, act: str) -> bool:
    """Casbin decision for a Subject as built by :func:`build_subject`.

    Roles come from the subject (so a session without its second factor, whose privileged roles
    were withheld, cannot use them). API clients (``client:<key_id>``) have direct ``p`` rules.
    """
    roles = set(subject.roles.get(institution, ())) | set(subject.roles.get(WILDCARD, ()))
    if subject.username.startswith("client:"):
        roles.add(subject.username)
    return any(authz.is_allowed(name, institution, o, act) for o in object_chain(obj) for name in roles)


def object_chain(obj: str) -> list[str]:
    """Objects are hierarchical: a rule on `task` covers `task:<process>` and `task:<process>:<node>`.

    The task layer asks about the most specific object, so a hospital may grant per process or per
    step while the seed policy grants on the general object.
    """
    parts = obj.split(":")
    return [":".join(parts[:n]) for n in range(len(parts), 0, -1)]


def install_policy_hook(ctx: EngineContext) -> None:
    """Expose ``ctx.extras['policy'](subject, institution, obj, act) -> bool`` for the task layer.

    Once the policy is loaded the hook does no I/O, so it may run inside a command's transaction; the
    policy it answers from is refreshed by :func:`authorizer` at the start of each request (the API
    authenticator does it through :func:`~engine.identity.sessions.resolve_session`). Job handlers act
    as ``system`` and make no policy decisions, so workers do not refresh it.
    """

    def policy(subject: Subject, institution: str, obj: str, act: str) -> bool:
        return decide(loaded_authorizer(ctx), subject, institution, obj, act)

    def roles_of(username: str, institution: str) -> set[str]:
        return set(loaded_authorizer(ctx).roles_of(username, institution))

    ctx.extras["policy"] = policy
    ctx.extras["roles_of"] = roles_of  # transfer/delegate eligibility of other users


def build_subject(
    ctx: EngineContext,
    session: Session,
    username: str,
    display_name: str = "",
    *,
    withheld: frozenset[str] = frozenset(),
    no_roles: bool = False,
) -> Subject:
    """Subject with roles per institution from Casbin (``*`` assignments apply to every institution).

    Runs inside the caller's transaction; call :func:`authorizer` before opening it.

    Args:
        withheld: Roles not granted to this session (privileged roles before TOTP).
        no_roles: Give no roles at all (password change pending).
    """
    if no_roles:
        return Subject(username, {}, display_name)
    authz = loaded_authorizer(ctx)
    domains = set(authz.domains_of(username))
    if WILDCARD in domains:
        domains |= set(session.scalars(select(Institution.code).where(Institution.active.is_(True))).all())
    roles: dict[str, frozenset[str]] = {}
    for domain in domains:
        held = authz.roles_of(username, domain) - withheld
        if held:
            roles[domain] = frozenset(held)
    return Subject(username, roles, display_name)


def require(
    ctx: EngineContext, subject: Subject, institution: str, obj: str, act: str, **detail: Any
) -> None:
    """Raise PermissionDenied (audited as ``access.denied`` in its own transaction) unless allowed."""
    if decide(authorizer(ctx), subject, institution, obj, act):
        return
    record_now(
        ctx,
        actor=subject.username,
        action="access.denied",
        details={"institution": institution, "object": obj, "action": act, **detail},
    )
    exc = PermissionDenied("没有权限执行该操作 (access denied)", object=obj, action=act)
    exc.audited = True
    raise exc


def permitted_institutions(ctx: EngineContext, subject: Subject, obj: str, act: str) -> list[str]:
    """Institutions (``*`` first, meaning all) where the subject may ``act`` on ``obj``; no audit.

    For pages that offer only what an admin may manage; the commands still decide with :func:`require`.
    """
    authz = authorizer(ctx)
    return [d for d in sorted(subject.roles) if decide(authz, subject, d, obj, act)]


def record_access_denied(ctx: EngineContext, actor: str, *, reason: str, **details: Any) -> None:
    """Audit a refused access decided outside the engine commands (API authentication, CSRF).

    Args:
        ctx: Engine context.
        actor: Who tried (username, ``client:<key_id>``, or ``anonymous``).
        reason: Stable reason code (``bad_signature``, ``replayed_nonce``, ``csrf_missing`` …).
        **details: Path, method, IP and the like (never secrets or patient data).
    """
    record_now(ctx, actor=actor[:100], action="access.denied", reason=reason, details=details)
