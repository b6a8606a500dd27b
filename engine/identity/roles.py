"""Role assignments per institution, written as Casbin ``g`` rows in the command's transaction.

Rules on top of Casbin: roles must exist (policies/roles.csv), nobody assigns roles to
themselves, one person never holds two of sys_admin / security_admin / audit_admin (三员分立), and
the administrator roles (`PRIVILEGED_ROLES`) are granted and revoked only with ``admin_role:admin``
(seed: security_admin) instead of ``identity:admin`` — the system admin, who creates accounts and may
choose their first password, cannot make one of them an administrator or auditor.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authz import WILDCARD
from engine.context import EngineContext
from engine.errors import FieldError, NotFound, ValidationFailed
from engine.identity._common import EXCLUSIVE_ADMIN_ROLES, PRIVILEGED_ROLES, record, require_reason
from engine.identity.policy import (
    add_rules,
    authorizer,
    bump_version,
    decide,
    list_rules,
    loaded_authorizer,
    remove_rules,
    require,
)
from engine.models import CasbinRule, Institution, User
from engine.subject import Subject


def known_roles(ctx: EngineContext, lang: str = "zh") -> dict[str, str]:
    """Role name → label from ``policies/roles.csv``: Chinese, or English when ``lang`` starts with "en"."""
    cached = ctx.extras.get("_role_rows")
    if cached is None:
        with (ctx.settings.policies_dir / "roles.csv").open(encoding="utf-8") as fh:
            cached = ctx.extras["_role_rows"] = list(csv.DictReader(fh))
    column = "label_en" if lang.lower().startswith("en") else "label_zh"
    return {r["role"]: r[column] or r["label_zh"] for r in cached}


def _held_roles(session: Session, username: str) -> set[str]:
    rows = session.scalars(
        select(CasbinRule.v1).where(CasbinRule.ptype == "g", CasbinRule.v0 == username)
    ).all()
    return set(rows)


def granting_object(role: str) -> str:
    """The Casbin object whose ``admin`` right grants or revokes ``role``."""
    return "admin_role" if role in PRIVILEGED_ROLES else "identity"


def check_assignment(
    ctx: EngineContext,
    session: Session,
    actor: Subject,
    username: str,
    role: str,
    domain: str,
    *,
    pending: Iterable[str] = (),
    pointer: str = "/role",
) -> list[FieldError]:
    """Why an assignment is not allowed (empty list = fine); runs inside the caller's transaction.

    A privileged role the actor may not grant is reported with validator ``permission`` (the CSV
    import audits it as ``access.denied``; :func:`assign_role` refuses it before, with the audit).
    """
    errors = []
    if role not in known_roles(ctx):
        errors.append(FieldError(pointer, f"未知角色：{role}", "enum"))
    elif role in PRIVILEGED_ROLES and not decide(loaded_authorizer(ctx), actor, domain, "admin_role", "admin"):
        errors.append(FieldError(
            pointer, f"三员分立：只有安全管理员可以分配管理员角色 {role}。", "permission"))
    if username == actor.username:
        errors.append(FieldError(pointer, "不能给自己分配或撤销角色。", "self_assignment"))
    if domain != WILDCARD and session.get(Institution, domain) is None:
        errors.append(FieldError("/institution", f"机构不存在：{domain}", "exists"))
    if role in EXCLUSIVE_ADMIN_ROLES:
        clash = ((_held_roles(session, username) | set(pending)) & EXCLUSIVE_ADMIN_ROLES) - {role}
        if clash:
            errors.append(
                FieldError(
                    pointer, f"三员分立：该用户已是 {', '.join(sorted(clash))}。", "separation_of_duties"
                )
            )
    return errors


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("用户不存在 (user not found)")
    return user


def assign_role(
    ctx: EngineContext, subject: Subject, username: str, role: str, institution: str, *, reason: str
) -> bool:
    """Give ``username`` the ``role`` in ``institution`` (``*`` = all); needs ``identity:admin`` there.

    The ``g`` row, the policy-version bump and the audit record commit together; every process
    picks the change up on its next :func:`~engine.identity.policy.authorizer` call.

    Returns:
        False when the assignment already existed.

    Raises:
        PermissionDenied: Not a system admin for that institution, or, for a privileged role, not a
            security admin (``admin_role:admin``); audited.
        ValidationFailed: Unknown role/institution, self-assignment, or 三员分立 violation.
    """
    reason = require_reason(reason)
    require(ctx, subject, institution, granting_object(role), "admin", command="assign_role", role=role)

    def change(session: Session) -> bool:
        _user(session, username)
        errors = check_assignment(ctx, session, subject, username, role, institution)
        if errors:
            raise ValidationFailed("角色分配不允许。", errors)
        return add_rules(session, "g", [[username, role, institution]])

    return _change_assignment(ctx, subject, change, "role.assigned", username, role, institution, reason)


def revoke_role(
    ctx: EngineContext, subject: Subject, username: str, role: str, institution: str, *, reason: str
) -> bool:
    """Remove one assignment (``identity:admin`` in the institution; ``admin_role:admin`` for a privileged
    role). Returns False if absent."""
    reason = require_reason(reason)
    require(ctx, subject, institution, granting_object(role), "admin", command="revoke_role", role=role)
    if username == subject.username:
        raise ValidationFailed(
            "角色分配不允许。", [FieldError("/role", "不能给自己分配或撤销角色。", "self_assignment")]
        )

    def change(session: Session) -> bool:
        return remove_rules(session, "g", [[username, role, institution]])

    return _change_assignment(ctx, subject, change, "role.revoked", username, role, institution, reason)


def _change_assignment(ctx: EngineContext, subject: Subject, change: Callable[[Session], bool], action: str,
                       username: str, role: str, institution: str, reason: str) -> bool:
    """One transaction: the rule change, the policy-version bump and the audit record; then reload."""

    def tx(session: Session) -> bool:
        if not change(session):
            return False
        bump_version(ctx, session)
        record(ctx, session, actor=subject.username, action=action, reason=reason,
               details={"username": username, "role": role, "institution": institution})
        return True

    changed = ctx.db.run(tx)
    authorizer(ctx, force=True)
    return changed


def list_policies(ctx: EngineContext, subject: Subject, ptype: str | None = None) -> list[list[str]]:
    """Every Casbin line in the database (``identity:read`` or ``security:read`` on ``*``)."""
    if not decide(authorizer(ctx), subject, WILDCARD, "security", "read"):
        require(ctx, subject, WILDCARD, "identity", "read", command="list_policies")
    with ctx.db.unit_of_work() as session:
        return list_rules(session, ptype)
