"""User administration: create, update, deactivate (system admin); unlock, reset password (security admin)."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, NotFound, ValidationFailed
from engine.identity._common import aware, blind_index, field_cipher, now, record, require_reason
from engine.identity.credentials import set_password
from engine.identity.policy import authorizer, decide, loaded_authorizer, require
from engine.identity.views import UserView
from engine.models import Department, Institution, User, UserSession
from engine.security.fields import normalize_id_number, normalize_phone
from engine.subject import Subject

USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{2,63}")
EMPLOYEE_NO_RE = re.compile(r"[A-Za-z0-9-]{2,32}")
ID_NUMBER_RE = re.compile(r"[0-9]{17}[0-9X]")
PHONE_CONTEXT, ID_CONTEXT = "users.phone", "users.id_number"


@dataclass(frozen=True)
class UserFields:
    """Editable attributes of a user (None = unchanged on update)."""

    display_name: str | None = None
    department_code: str | None = None
    phone: str | None = None
    id_number: str | None = None
    expires_at: datetime | None = None


def field_errors(
    *, username: str | None, employee_no: str | None, fields: UserFields, prefix: str = ""
) -> list[FieldError]:
    """Format checks shared by the admin form and the CSV import."""
    errors: list[FieldError] = []
    if username is not None and not USERNAME_RE.fullmatch(username):
        errors.append(
            FieldError(f"{prefix}/username", "用户名须以字母开头，3-64 位字母、数字或 _.-", "pattern")
        )
    if employee_no is not None and not EMPLOYEE_NO_RE.fullmatch(employee_no):
        errors.append(FieldError(f"{prefix}/employee_no", "工号为 2-32 位字母、数字或连字符。", "pattern"))
    if fields.display_name is not None and not (0 < len(fields.display_name.strip()) <= 100):
        errors.append(FieldError(f"{prefix}/display_name", "姓名不能为空且不超过 100 字。", "required"))
    if fields.phone and not re.fullmatch(r"1[0-9]{10}", normalize_phone(fields.phone)):
        errors.append(FieldError(f"{prefix}/phone", "手机号格式错误。", "pattern"))
    if fields.id_number and not valid_id_number(fields.id_number):
        errors.append(FieldError(f"{prefix}/id_number", "身份证号格式或校验位错误。", "pattern"))
    return errors


def valid_id_number(value: str) -> bool:
    """18-digit resident ID number with a correct ISO 7064 MOD 11-2 check character."""
    text = normalize_id_number(value)
    if not ID_NUMBER_RE.fullmatch(text):
        return False
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(text[:17], weights, strict=True))
    return "10X98765432"[total % 11] == text[17]


def department_id(session: Session, institution: str, code: str | None) -> str | None:
    if not code:
        return None
    dept = session.scalars(
        select(Department.id).where(Department.institution_code == institution, Department.code == code)
    ).first()
    if dept is None:
        raise ValidationFailed(
            "科室不存在。", [FieldError("/department_code", "该机构下没有此科室。", "exists")]
        )
    return dept


def apply_sensitive(ctx: EngineContext, user: User, fields: UserFields) -> None:
    """Encrypt phone / ID number and refresh their blind indexes ("" clears the value)."""
    cipher, index = field_cipher(ctx), blind_index(ctx)
    if fields.phone is not None:
        phone = normalize_phone(fields.phone)
        user.phone_enc = cipher.encrypt(phone, context=PHONE_CONTEXT) if phone else None
        user.phone_bidx = index.compute(phone, "phone") if phone else None
    if fields.id_number is not None:
        idn = normalize_id_number(fields.id_number)
        user.id_number_enc = cipher.encrypt(idn, context=ID_CONTEXT) if idn else None
        user.id_number_bidx = index.compute(idn, "id_number") if idn else None


def decrypt_pii(ctx: EngineContext, user: User) -> tuple[str, str]:
    cipher = field_cipher(ctx)
    phone = cipher.decrypt(user.phone_enc, context=PHONE_CONTEXT) if user.phone_enc else ""
    idn = cipher.decrypt(user.id_number_enc, context=ID_CONTEXT) if user.id_number_enc else ""
    return phone, idn


def direct_roles(ctx: EngineContext, username: str) -> dict[str, list[str]]:
    authz = loaded_authorizer(ctx)
    return {
        d: sorted(authz.roles_of(username, d, inherited=False)) for d in sorted(authz.domains_of(username))
    }


def view(ctx: EngineContext, user: User) -> UserView:
    phone, idn = decrypt_pii(ctx, user)
    return UserView.of(user, phone=phone, id_number=idn, roles=direct_roles(ctx, user.username))


def load_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id) or session.scalars(select(User).where(User.username == user_id)).first()
    if user is None:
        raise NotFound("用户不存在 (user not found)")
    return user


def _institution_of(ctx: EngineContext, user_id: str) -> str:
    with ctx.db.unit_of_work() as session:
        return load_user(session, user_id).institution_code


def create_user(
    ctx: EngineContext,
    subject: Subject,
    *,
    username: str,
    employee_no: str,
    display_name: str,
    institution_code: str,
    fields: UserFields | None = None,
    initial_password: str | None = None,
    reason: str,
) -> UserView:
    """Create a user (``identity:admin`` in the institution); the first login forces a password change.

    Args:
        initial_password: Optional first password (policy-checked); without it the account can only
            use portal SSO until a security admin resets the password.

    Raises:
        Conflict: Username or employee number taken.
        ValidationFailed: Bad fields, weak password or missing reason.
    """
    reason = require_reason(reason)
    fields = fields or UserFields()
    fields = UserFields(
        display_name, fields.department_code, fields.phone, fields.id_number, fields.expires_at
    )
    errors = field_errors(username=username, employee_no=employee_no, fields=fields)
    if errors:
        raise ValidationFailed("用户信息有误。", errors)
    require(ctx, subject, institution_code, "identity", "admin", command="create_user")

    def tx(session: Session) -> UserView:
        if session.get(Institution, institution_code) is None:
            raise NotFound("机构不存在 (institution not found)")
        taken = session.scalars(
            select(User.id).where(or_(User.username == username, User.employee_no == employee_no))
        ).first()
        if taken:
            raise Conflict("用户名或工号已存在。")
        user = User(
            username=username,
            employee_no=employee_no,
            display_name=display_name.strip(),
            institution_code=institution_code,
            must_change_password=True,
            password_history=[],
            department_id=department_id(session, institution_code, fields.department_code),
            expires_at=fields.expires_at,
            created_at=now(ctx),
            updated_at=now(ctx),
        )
        apply_sensitive(ctx, user, fields)
        if initial_password:
            set_password(ctx, session, user, initial_password, must_change=True)
        session.add(user)
        session.flush()
        record(
            ctx,
            session,
            actor=subject.username,
            action="user.created",
            reason=reason,
            details={"username": username, "employee_no": employee_no, "institution": institution_code},
        )
        return view(ctx, user)

    return ctx.db.run(tx)


def update_user(
    ctx: EngineContext, subject: Subject, user_id: str, fields: UserFields, *, reason: str
) -> UserView:
    """Change name, department, phone, ID number or account expiry (``identity:admin``)."""
    reason = require_reason(reason)
    errors = field_errors(username=None, employee_no=None, fields=fields)
    if errors:
        raise ValidationFailed("用户信息有误。", errors)
    require(ctx, subject, _institution_of(ctx, user_id), "identity", "admin", command="update_user")

    def tx(session: Session) -> UserView:
        user = load_user(session, user_id)
        changed = [
            name
            for name in ("display_name", "department_code", "phone", "id_number", "expires_at")
            if getattr(fields, name) is not None
        ]
        if fields.display_name is not None:
            user.display_name = fields.display_name.strip()
        if fields.department_code is not None:
            user.department_id = department_id(session, user.institution_code, fields.department_code)
        if fields.expires_at is not None:
            user.expires_at = fields.expires_at
        apply_sensitive(ctx, user, fields)
        user.updated_at = now(ctx)
        # Field names only: the audit trail never carries the personal data itself.
        record(
            ctx,
            session,
            actor=subject.username,
            action="user.updated",
            reason=reason,
            details={"username": user.username, "fields": changed},
        )
        return view(ctx, user)

    return ctx.db.run(tx)


def _end_sessions(session: Session, user: User, at: datetime, reason: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )


def set_user_active(
    ctx: EngineContext, subject: Subject, user_id: str, active: bool, *, reason: str
) -> UserView:
    """Deactivate (ending every session) or reactivate an account (``identity:admin``)."""
    reason = require_reason(reason)
    require(ctx, subject, _institution_of(ctx, user_id), "identity", "admin", command="set_user_active")

    def tx(session: Session) -> UserView:
        user = load_user(session, user_id)
        if user.username == subject.username and not active:
            raise Conflict("不能停用自己的账户。")
        user.active, user.updated_at = active, now(ctx)
        if not active:
            _end_sessions(session, user, now(ctx), "user_disabled")
        record(
            ctx,
            session,
            actor=subject.username,
            action="user.activated" if active else "user.deactivated",
            reason=reason,
            details={"username": user.username},
        )
        return view(ctx, user)

    return ctx.db.run(tx)


def unlock_user(ctx: EngineContext, subject: Subject, user_id: str, *, reason: str) -> UserView:
    """Clear a login lockout (``security:admin`` in the user's institution)."""
    reason = require_reason(reason)
    require(ctx, subject, _institution_of(ctx, user_id), "security", "admin", command="unlock_user")

    def tx(session: Session) -> UserView:
        user = load_user(session, user_id)
        was = {"failures": user.failures, "locked_until": str(aware(user.locked_until) or "")}
        user.failures, user.last_failure_at, user.locked_until = 0, None, None
        record(
            ctx,
            session,
            actor=subject.username,
            action="user.unlocked",
            reason=reason,
            details={"username": user.username, **was},
        )
        return view(ctx, user)

    return ctx.db.run(tx)


def temporary_password(length: int = 14) -> str:
    """A random password that satisfies the policy (all four classes)."""
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(not c.isalnum() for c in candidate)
        ):
            return candidate


def reset_password(
    ctx: EngineContext, subject: Subject, user_id: str, *, reason: str, new_password: str | None = None
) -> str:
    """Set a temporary password the user must change at next login; unlocks and ends sessions.

    Needs ``security:admin`` in the user's institution. Returns the temporary password (shown once).
    """
    reason = require_reason(reason)
    require(ctx, subject, _institution_of(ctx, user_id), "security", "admin", command="reset_password")
    password = new_password or temporary_password()

    def tx(session: Session) -> str:
        user = load_user(session, user_id)
        set_password(ctx, session, user, password, must_change=True)
        user.failures, user.last_failure_at, user.locked_until = 0, None, None
        _end_sessions(session, user, now(ctx), "password_reset")
        record(
            ctx,
            session,
            actor=subject.username,
            action="password.reset",
            reason=reason,
            details={"username": user.username},
        )
        return password

    return ctx.db.run(tx)


def reset_totp(ctx: EngineContext, subject: Subject, user_id: str, *, reason: str) -> UserView:
    """Remove a user's second factor so they enrol again (``security:admin``)."""
    reason = require_reason(reason)
    require(ctx, subject, _institution_of(ctx, user_id), "security", "admin", command="reset_totp")

    def tx(session: Session) -> UserView:
        user = load_user(session, user_id)
        user.totp_secret_enc = user.totp_pending_enc = None
        user.totp_last_step = None
        _end_sessions(session, user, now(ctx), "totp_reset")
        record(
            ctx,
            session,
            actor=subject.username,
            action="totp.reset",
            reason=reason,
            details={"username": user.username},
        )
        return view(ctx, user)

    return ctx.db.run(tx)


def list_users(
    ctx: EngineContext,
    subject: Subject,
    *,
    institution_code: str | None = None,
    q: str = "",
    phone: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[UserView]:
    """Search users (``identity:read``, or ``security:read`` for unlock pages) with masked PII.

    Args:
        institution_code: Limit to one institution; None needs the right on every institution (``*``).
        q: Fuzzy match on username, employee number or name.
        phone: Exact phone match through the blind index (no decryption of the table).
    """
    domain = institution_code or "*"
    authz = authorizer(ctx)
    if not decide(authz, subject, domain, "security", "read"):
        require(ctx, subject, domain, "identity", "read", command="list_users")
    query = select(User).order_by(User.institution_code, User.username).limit(min(limit, 500)).offset(offset)
    if institution_code:
        query = query.where(User.institution_code == institution_code)
    if q:
        like = f"%{q.strip()[:50]}%"
        query = query.where(
            or_(User.username.like(like), User.employee_no.like(like), User.display_name.like(like))
        )
    if phone:
        query = query.where(User.phone_bidx == blind_index(ctx).compute(phone, "phone"))
    if active is not None:
        query = query.where(User.active.is_(active))
    with ctx.db.unit_of_work() as session:
        return [view(ctx, u) for u in session.scalars(query).all()]


def reveal_user_pii(ctx: EngineContext, subject: Subject, user_id: str, *, reason: str) -> dict[str, Any]:
    """Full phone and ID number for one user (``pii:read``); every look is audited with its reason."""
    reason = require_reason(reason)
    require(ctx, subject, _institution_of(ctx, user_id), "pii", "read", command="reveal_user_pii")

    def tx(session: Session) -> dict[str, Any]:
        user = load_user(session, user_id)
        phone, idn = decrypt_pii(ctx, user)
        record(
            ctx,
            session,
            actor=subject.username,
            action="pii.read",
            reason=reason,
            details={"username": user.username, "fields": ["phone", "id_number"]},
        )
        return {"username": user.username, "phone": phone, "id_number": idn}

    return ctx.db.run(tx)
