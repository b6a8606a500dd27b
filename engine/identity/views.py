"""Read models returned by the identity commands (sensitive fields masked server-side)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.identity._common import aware
from engine.models import ApiClientRecord, Department, Institution, User
from engine.security.fields import mask_id_number, mask_phone


@dataclass(frozen=True)
class InstitutionView:
    code: str
    name: str
    kind: str
    parent_code: str | None
    active: bool

    @classmethod
    def of(cls, row: Institution) -> InstitutionView:
        return cls(row.code, row.name, row.kind, row.parent_code, row.active)


@dataclass(frozen=True)
class DepartmentView:
    id: str
    institution_code: str
    code: str
    name: str
    active: bool

    @classmethod
    def of(cls, row: Department) -> DepartmentView:
        return cls(row.id, row.institution_code, row.code, row.name, row.active)


@dataclass(frozen=True)
class UserView:
    """A user as admin pages show it: phone and ID number masked (full values need ``pii:read``)."""

    id: str
    username: str
    employee_no: str
    display_name: str
    institution_code: str
    department_id: str | None
    phone: str
    id_number: str
    active: bool
    locked_until: datetime | None
    must_change_password: bool
    expires_at: datetime | None
    totp_enrolled: bool
    login_count: int
    last_login_at: datetime | None
    roles: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, row: User, *, phone: str, id_number: str, roles: dict[str, list[str]]) -> UserView:
        return cls(
            row.id,
            row.username,
            row.employee_no,
            row.display_name,
            row.institution_code,
            row.department_id,
            mask_phone(phone) if phone else "",
            mask_id_number(id_number) if id_number else "",
            row.active,
            aware(row.locked_until),
            row.must_change_password,
            aware(row.expires_at),
            row.totp_secret_enc is not None,
            row.login_count,
            aware(row.last_login_at),
            roles,
        )


@dataclass(frozen=True)
class ApiClientView:
    key_id: str
    name: str
    allowed_networks: list[str]
    active: bool
    permissions: list[list[str]]
    created_at: datetime | None
    rotated_at: datetime | None

    @classmethod
    def of(cls, row: ApiClientRecord, permissions: list[list[str]]) -> ApiClientView:
        return cls(
            row.key_id,
            row.name,
            list(row.allowed_networks or []),
            row.active,
            permissions,
            aware(row.created_at),
            aware(row.rotated_at),
        )


@dataclass(frozen=True)
class ApiClientSecret:
    """Returned once by create/rotate; the platform keeps only the encrypted secret."""

    key_id: str
    secret: str


@dataclass(frozen=True)
class UserImportResult:
    created: list[str]
    assignments: int


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    instance_id: str | None
    task_id: str | None
    reason: str
    details: dict[str, Any]
    hash: str
