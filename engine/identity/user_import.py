"""Bulk user import from CSV: every row is validated first; one bad row imports nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import FieldError, ValidationFailed
from engine.identity._common import now, record, record_now, require_reason
from engine.identity.policy import add_rules, authorizer, bump_version, decide, loaded_authorizer
from engine.identity.roles import check_assignment
from engine.identity.users import UserFields, apply_sensitive, field_errors
from engine.identity.views import UserImportResult
from engine.models import Department, Institution, User
from engine.subject import Subject

COLUMNS = (
    "username",
    "employee_no",
    "display_name",
    "institution",
    "department",
    "phone",
    "id_number",
    "roles",
    "expires_at",
)
REQUIRED = ("username", "employee_no", "display_name", "institution")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000


def _parse(content: bytes) -> list[dict[str, str]]:
    if len(content) > MAX_BYTES:
        raise ValidationFailed(
            "文件过大。", [FieldError("/file", f"文件不能超过 {MAX_BYTES // 1024} KB。", "max_size")]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "文件编码须为 UTF-8。", [FieldError("/file", "文件编码须为 UTF-8。", "encoding")]
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed("缺少列。", [FieldError("/file", f"缺少列：{', '.join(missing)}", "columns")])
    rows = [{k: (v or "").strip() for k, v in row.items() if k in COLUMNS} for row in reader]
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            "行数过多。", [FieldError("/file", f"一次最多导入 {MAX_ROWS} 行。", "max_rows")]
        )
    return rows


def _row_errors(
    ctx: EngineContext,
    session: Session,
    subject: Subject,
    n: int,
    row: dict[str, str],
    seen: dict[str, set[str]],
) -> list[FieldError]:
    p = f"/rows/{n}"
    errors = [FieldError(f"{p}/{c}", "必填。", "required") for c in REQUIRED if not row.get(c)]
    expires = None
    if row.get("expires_at"):
        try:
            expires = datetime.fromisoformat(row["expires_at"]).replace(tzinfo=UTC)
        except ValueError:
            errors.append(FieldError(f"{p}/expires_at", "日期格式应为 YYYY-MM-DD。", "format"))
    fields = UserFields(
        row.get("display_name"), row.get("department"), row.get("phone"), row.get("id_number"), expires
    )
    errors += field_errors(
        username=row.get("username"), employee_no=row.get("employee_no"), fields=fields, prefix=p
    )
    for key in ("username", "employee_no"):
        value = row.get(key)
        if not value:
            continue
        if value in seen[key]:
            errors.append(FieldError(f"{p}/{key}", "文件内重复。", "duplicate"))
        seen[key].add(value)
        if session.scalars(select(User.id).where(getattr(User, key) == value)).first():
            errors.append(FieldError(f"{p}/{key}", "已存在。", "exists"))
    inst = row.get("institution", "")
    if inst and session.get(Institution, inst) is None:
        errors.append(FieldError(f"{p}/institution", "机构不存在。", "exists"))
    elif inst and not decide(loaded_authorizer(ctx), subject, inst, "identity", "admin"):
        errors.append(FieldError(f"{p}/institution", "无权管理该机构的用户。", "permission"))
    if (
        inst
        and row.get("department")
        and session.scalars(
            select(Department.id).where(
                Department.institution_code == inst, Department.code == row["department"]
            )
        ).first()
        is None
    ):
        errors.append(FieldError(f"{p}/department", "该机构下没有此科室。", "exists"))
    roles = [r.strip() for r in row.get("roles", "").split(";") if r.strip()]
    for role in roles:
        errors += check_assignment(
            ctx,
            session,
            subject,
            row.get("username", ""),
            role,
            inst or "*",
            pending=roles,
            pointer=f"{p}/roles",
        )
    # check_assignment reports a missing institution too; the row already says so.
    return [e for e in errors if e.pointer != "/institution"]


def import_users_csv(ctx: EngineContext, subject: Subject, content: bytes, *, reason: str) -> UserImportResult:
    """Create users (and their roles) from a UTF-8 CSV; all rows or none.

    Columns: ``username, employee_no, display_name, institution`` (required), ``department`` (code),
    ``phone``, ``id_number``, ``roles`` (``;``-separated, granted in the row's institution),
    ``expires_at`` (YYYY-MM-DD). Imported accounts get no password: they sign in through the portal
    (SSO) or a security admin issues a temporary password (``reset_password``).

    Raises:
        ValidationFailed: One field error per bad cell, pointer ``/rows/<n>/<column>`` (n from 1);
            nothing is imported and the rejected attempt is audited.
    """
    reason = require_reason(reason)
    rows = _parse(content)
    authorizer(ctx)  # refresh before the transaction

    def tx(session: Session) -> UserImportResult:
        seen: dict[str, set[str]] = {"username": set(), "employee_no": set()}
        errors = [
            e for n, row in enumerate(rows, 1) for e in _row_errors(ctx, session, subject, n, row, seen)
        ]
        if errors:
            raise ValidationFailed(
                f"导入失败：{len({e.pointer.split('/')[2] for e in errors})} 行有错误，未导入任何数据。",
                errors,
            )
        created, grants = [], []
        for row in rows:
            dept = None
            if row.get("department"):
                dept = session.scalars(
                    select(Department.id).where(
                        Department.institution_code == row["institution"],
                        Department.code == row["department"],
                    )
                ).first()
            expires = (
                datetime.fromisoformat(row["expires_at"]).replace(tzinfo=UTC)
                if row.get("expires_at")
                else None
            )
            user = User(
                username=row["username"],
                employee_no=row["employee_no"],
                display_name=row["display_name"],
                institution_code=row["institution"],
                department_id=dept,
                password_history=[],
                must_change_password=True,
                expires_at=expires,
                created_at=now(ctx),
                updated_at=now(ctx),
            )
            apply_sensitive(
                ctx, user, UserFields(phone=row.get("phone") or None, id_number=row.get("id_number") or None)
            )
            session.add(user)
            created.append(user.username)
            grants += [
                [row["username"], r.strip(), row["institution"]]
                for r in row.get("roles", "").split(";")
                if r.strip()
            ]
        session.flush()
        added = add_rules(session, "g", grants)
        if added:
            bump_version(ctx, session)
        record(
            ctx,
            session,
            actor=subject.username,
            action="user.imported",
            reason=reason,
            details={"count": len(created), "usernames": created[:200], "role_assignments": added},
        )
        return UserImportResult(created=created, assignments=added)

    try:
        result = ctx.db.run(tx)
    except ValidationFailed as exc:
        record_now(
            ctx,
            actor=subject.username,
            action="user.import_rejected",
            reason=reason,
            details={"rows": len(rows), "errors": len(exc.errors)},
        )
        if any(e.validator == "permission" for e in exc.errors):
            record_now(
                ctx,
                actor=subject.username,
                action="access.denied",
                reason="import_outside_scope",
                details={"object": "identity", "action": "admin", "command": "import_users_csv"},
            )
        raise
    authorizer(ctx, force=True)
    return result
