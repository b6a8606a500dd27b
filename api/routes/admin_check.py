"""Interim admin check (a role named in any institution) until Casbin decides `admin` actions."""
from __future__ import annotations

from engine import Subject
from engine.errors import PermissionDenied

ADMIN_ROLES = frozenset({"process_admin", "system_admin"})


def require_admin(subject: Subject) -> None:
    if not any(roles & ADMIN_ROLES for roles in subject.roles.values()):
        raise PermissionDenied("需要管理员权限 (admin role required)")
