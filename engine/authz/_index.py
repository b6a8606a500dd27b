"""Flat, immutable decision index built from Casbin's loaded policy.

It mirrors exactly the semantics of ``policies/model.conf`` as pycasbin evaluates it:

* ``g(r.sub, p.sub, r.dom)`` is true when ``p.sub == r.sub`` or ``p.sub`` is reachable from
  ``r.sub`` through ``g`` links whose domain is ``r.dom`` or ``*``, in at most
  ``max_hierarchy_level - 1`` hops (pycasbin's default role manager limit);
* a ``p`` rule applies when its domain is ``*`` or equals ``r.dom`` and object and action
  are equal; effect is allow-override (no deny rules in this model).

Decisions are then two dict lookups and a set intersection, independent of policy size.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

WILDCARD = "*"
_MAX_LAZY_ENTRIES = 100_000


class PolicyIndex:
    """Precomputed role closures and grants. Build a new one on every policy change."""

    def __init__(
        self,
        p_rules: Iterable[Sequence[str]],
        g_rules: Iterable[Sequence[str]],
        *,
        max_hierarchy_level: int = 10,
        known_roles: Iterable[str] = (),
    ) -> None:
        self._max_hops = max_hierarchy_level - 1
        parents: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        grants: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        # A "*" link cannot tell "leaf role inherits staff" from "global user has role", so
        # roles that have no grants of their own must be named by the caller (the seed file).
        role_names: set[str] = set(known_roles)
        for sub, dom, obj, act, *_ in p_rules:
            grants[(obj, act)][dom].add(sub)
            role_names.add(sub)
        g_list = [tuple(rule[:3]) for rule in g_rules]
        for name, parent, dom in g_list:
            parents[name][dom].append(parent)
            role_names.add(parent)
        self._parents = {n: {d: tuple(ps) for d, ps in by_dom.items()} for n, by_dom in parents.items()}
        self._grants = {k: {d: frozenset(s) for d, s in v.items()} for k, v in grants.items()}
        self.role_names = frozenset(role_names)

        # Eager closures for every (user, institution) assignment; "*" assignments are
        # resolved lazily per institution because their closure depends on it.
        self._effective: dict[tuple[str, str], frozenset[str]] = {}
        self._lazy: dict[tuple[str, str], frozenset[str]] = {}
        holders: dict[tuple[str, str], set[str]] = defaultdict(set)
        domains: dict[str, set[str]] = defaultdict(set)
        global_users: set[str] = set()
        role_closures: dict[tuple[str, str], frozenset[str]] = {}
        for name, _parent, dom in g_list:
            if name in self.role_names:
                continue
            domains[name].add(dom)
            if dom == WILDCARD:
                global_users.add(name)
            key = (name, dom)
            if key in self._effective:
                continue
            closure = self._user_closure(name, dom, role_closures)
            self._effective[key] = closure
            if dom != WILDCARD:
                for role in closure:
                    if role != name:
                        holders[(dom, role)].add(name)
        self._holders = {k: frozenset(v) for k, v in holders.items()}
        self._domains = {u: frozenset(d) for u, d in domains.items()}
        self.global_users = frozenset(global_users)
        self.p_count = sum(len(s) for v in self._grants.values() for s in v.values())
        self.g_count = len(g_list)

    def _user_closure(
        self, name: str, domain: str, memo: dict[tuple[str, str], frozenset[str]]
    ) -> frozenset[str]:
        """Closure of a user = itself ∪ closures of its direct roles one hop shorter.

        Role closures are shared by all users of an institution, so building the index costs
        about one set union per assignment instead of one graph walk.
        """
        by_dom = self._parents[name]
        parts = [frozenset((name,))]
        for d in (domain,) if domain == WILDCARD else (domain, WILDCARD):
            for role in by_dom.get(d, ()):
                key = (role, domain)
                closure = memo.get(key)
                if closure is None:
                    closure = memo[key] = self._closure(role, domain, self._max_hops - 1)
                parts.append(closure)
        return frozenset().union(*parts)

    def _closure(self, name: str, domain: str, max_hops: int | None = None) -> frozenset[str]:
        """Breadth-first walk over links in ``domain`` and ``*``, bounded like pycasbin."""
        seen = {name}
        frontier = [name]
        doms = (domain,) if domain == WILDCARD else (domain, WILDCARD)
        for _ in range(self._max_hops if max_hops is None else max_hops):
            nxt = []
            for node in frontier:
                by_dom = self._parents.get(node)
                if not by_dom:
                    continue
                for d in doms:
                    for parent in by_dom.get(d, ()):
                        if parent not in seen:
                            seen.add(parent)
                            nxt.append(parent)
            if not nxt:
                break
            frontier = nxt
        return frozenset(seen)

    def effective(self, user: str, domain: str) -> frozenset[str]:
        """The user itself plus every role it holds in ``domain``, inherited ones included."""
        found = self._effective.get((user, domain))
        if found is not None:
            return found
        if user not in self._parents:  # unknown user, or a user/role without any links
            return frozenset((user,))
        key = (user, domain)
        cached = self._lazy.get(key)
        if cached is None:
            cached = self._closure(user, domain)
            if len(self._lazy) >= _MAX_LAZY_ENTRIES:  # domains come from requests: stay bounded
                self._lazy.clear()
            self._lazy[key] = cached
        return cached

    def allowed(self, user: str, domain: str, obj: str, act: str) -> bool:
        """Same answer as ``enforcer.enforce(user, domain, obj, act)``."""
        by_dom = self._grants.get((obj, act))
        if not by_dom:
            return False
        subjects = self.effective(user, domain)
        star = by_dom.get(WILDCARD)
        if star is not None and not subjects.isdisjoint(star):
            return True
        local = by_dom.get(domain)
        return local is not None and not subjects.isdisjoint(local)

    def direct_roles(self, user: str, domain: str) -> frozenset[str]:
        """Roles assigned to ``user`` in ``domain`` or in every institution (``*``)."""
        by_dom = self._parents.get(user, {})
        return frozenset(by_dom.get(domain, ())) | frozenset(by_dom.get(WILDCARD, ()))

    def holders(self, role: str, domain: str) -> frozenset[str]:
        """Users (not roles) holding ``role`` in ``domain``, directly or through inheritance."""
        local = self._holders.get((domain, role), frozenset())
        extra = {u for u in self.global_users if role in self.effective(u, domain)}
        return local | extra if extra else local

    def domains_of(self, user: str) -> frozenset[str]:
        """Institutions where ``user`` has at least one assignment (``*`` for global ones)."""
        return self._domains.get(user, frozenset())
