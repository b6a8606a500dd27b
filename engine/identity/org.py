"""Institutions (Casbin domains) and departments: system-admin commands, each audited with a reason."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.identity._common import now, record, require_reason
from engine.identity.policy import require
from engine.identity.views import DepartmentView, InstitutionView
from engine.models import Department, Institution
from engine.models.identity import INSTITUTION_KINDS
from engine.subject import Subject

_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")


def _check(code: str, name: str, kind: str | None = None) -> None:
    errors = []
    if not _CODE_RE.fullmatch(code or ""):
        errors.append(FieldError("/code", "编码只能包含字母、数字、下划线和连字符（1-50 位）。", "pattern"))
    if not (name or "").strip() or len(name) > 200:
        errors.append(FieldError("/name", "名称不能为空且不超过 200 字。", "required"))
    if kind is not None and kind not in INSTITUTION_KINDS:
        errors.append(FieldError("/kind", f"类型必须是 {', '.join(INSTITUTION_KINDS)} 之一。", "enum"))
    if errors:
        raise ValidationFailed("输入有误。", errors)


def _institution(session: Session, code: str) -> Institution:
    row = session.get(Institution, code)
    if row is None:
        raise NotFound("机构不存在 (institution not found)", institution=code)
    return row


def create_institution(
    ctx: EngineContext,
    subject: Subject,
    *,
    code: str,
    name: str,
    kind: str,
    parent_code: str | None = None,
    reason: str,
) -> InstitutionView:
    """Create an institution (hospital, campus or community centre); needs ``identity:admin`` on ``*``.

    Raises:
        PermissionDenied: Not a system admin for every institution (audited).
        Conflict: The code exists.
        ValidationFailed: Bad code, name, kind, or missing reason.
    """
    reason = require_reason(reason)
    _check(code, name, kind)
    require(ctx, subject, "*", "identity", "admin", command="create_institution")

    def tx(session: Session) -> InstitutionView:
        if session.get(Institution, code) is not None:
            raise Conflict("机构编码已存在。", institution=code)
        if parent_code:
            _institution(session, parent_code)
        row = Institution(
            code=code,
            name=name.strip(),
            kind=kind,
            parent_code=parent_code or None,
            created_at=now(ctx),
            updated_at=now(ctx),
        )
        session.add(row)
        session.flush()
        record(
            ctx,
            session,
            actor=subject.username,
            action="institution.created",
            reason=reason,
            details={"code": code, "name": row.name, "kind": kind, "parent": parent_code},
        )
        return InstitutionView.of(row)

    return ctx.db.run(tx)


def update_institution(
    ctx: EngineContext,
    subject: Subject,
    code: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    parent_code: str | None = None,
    active: bool | None = None,
    reason: str,
) -> InstitutionView:
    """Rename, re-parent, re-classify or (de)activate an institution (``identity:admin`` on ``*``)."""
    reason = require_reason(reason)
    require(ctx, subject, "*", "identity", "admin", command="update_institution")

    def tx(session: Session) -> InstitutionView:
        row = _institution(session, code)
        _check(code, name if name is not None else row.name, kind)
        changes = {}
        if parent_code is not None and parent_code != (row.parent_code or ""):
            if parent_code == code:
                raise ValidationFailed(
                    "机构不能以自己为上级。", [FieldError("/parent_code", "上级机构无效。")]
                )
            if parent_code:
                _institution(session, parent_code)
            changes["parent_code"] = parent_code or None
        for attr, value in (("name", name), ("kind", kind), ("active", active)):
            if value is not None and value != getattr(row, attr):
                changes[attr] = value
        for attr, value in changes.items():
            setattr(row, attr, value)
        row.updated_at = now(ctx)
        record(
            ctx,
            session,
            actor=subject.username,
            action="institution.updated",
            reason=reason,
            details={"code": code, "changes": changes},
        )
        return InstitutionView.of(row)

    return ctx.db.run(tx)


def list_institutions(ctx: EngineContext, *, include_inactive: bool = False) -> list[InstitutionView]:
    """Institutions ordered by code (names are not sensitive; pickers on every page need them)."""
    with ctx.db.unit_of_work() as session:
        query = select(Institution).order_by(Institution.code)
        if not include_inactive:
            query = query.where(Institution.active.is_(True))
        return [InstitutionView.of(r) for r in session.scalars(query).all()]


def create_department(
    ctx: EngineContext, subject: Subject, *, institution_code: str, code: str, name: str, reason: str
) -> DepartmentView:
    """Create a department in an institution (``identity:admin`` in that institution)."""
    reason = require_reason(reason)
    _check(code, name)
    require(ctx, subject, institution_code, "identity", "admin", command="create_department")

    def tx(session: Session) -> DepartmentView:
        _institution(session, institution_code)
        exists = session.scalars(
            select(Department).where(Department.institution_code == institution_code, Department.code == code)
        ).first()
        if exists is not None:
            raise Conflict("科室编码已存在。", department=code)
        row = Department(institution_code=institution_code, code=code, name=name.strip(), created_at=now(ctx))
        session.add(row)
        session.flush()
        record(
            ctx,
            session,
            actor=subject.username,
            action="department.created",
            reason=reason,
            details={"institution": institution_code, "code": code, "name": row.name},
        )
        return DepartmentView.of(row)

    return ctx.db.run(tx)


def update_department(
    ctx: EngineContext,
    subject: Subject,
    department_id: str,
    *,
    name: str | None = None,
    active: bool | None = None,
    reason: str,
) -> DepartmentView:
    """Rename or (de)activate a department (``identity:admin`` in its institution)."""
    reason = require_reason(reason)
    with ctx.db.unit_of_work() as session:
        row = session.get(Department, department_id)
        if row is None:
            raise NotFound("科室不存在 (department not found)")
        institution = row.institution_code
    require(ctx, subject, institution, "identity", "admin", command="update_department")

    def tx(session: Session) -> DepartmentView:
        dept = session.get(Department, department_id)
        changes = {}
        if name is not None and name.strip() != dept.name:
            _check(dept.code, name)
            changes["name"] = name.strip()
        if active is not None and active != dept.active:
            changes["active"] = active
        for attr, value in changes.items():
            setattr(dept, attr, value)
        record(
            ctx,
            session,
            actor=subject.username,
            action="department.updated",
            reason=reason,
            details={"id": department_id, "changes": changes},
        )
        return DepartmentView.of(dept)

    return ctx.db.run(tx)


def list_departments(ctx: EngineContext, institution_code: str | None = None) -> list[DepartmentView]:
    """Departments, optionally of one institution, ordered by institution and code."""
    with ctx.db.unit_of_work() as session:
        query = select(Department).order_by(Department.institution_code, Department.code)
        if institution_code:
            query = query.where(Department.institution_code == institution_code)
        return [DepartmentView.of(r) for r in session.scalars(query).all()]
