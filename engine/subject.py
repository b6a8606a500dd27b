"""Who is acting: a username and their roles per institution (filled from Casbin by the caller)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Subject:
    username: str
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    display_name: str = ""

    def has_role(self, institution: str, role: str) -> bool:
        return role in self.roles.get(institution, frozenset())

    def has_any_role(self, institution: str, roles: list[str] | frozenset[str]) -> bool:
        return bool(self.roles.get(institution, frozenset()) & set(roles))


SYSTEM = Subject("system")
