"""Request/response bodies of the auth, admin and audit routers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, create_model

from engine import SECURITY_LIMITS


class Reasoned(BaseModel):
    reason: str = Field(min_length=2, max_length=1000, description="操作原因（写入审计日志）")


class LoginIn(BaseModel):
    identifier: str = Field(min_length=1, max_length=64, description="用户名或工号")
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(default=None, max_length=10)
    captcha_id: str | None = Field(default=None, max_length=36, description="POST /api/auth/captcha")
    captcha_answer: str | None = Field(default=None, max_length=8)


class CaptchaOut(BaseModel):
    captcha_id: str
    image_url: str


class LoginOut(BaseModel):
    status: str
    username: str
    csrf_token: str | None = None
    expires_at: datetime | None = None
    password_expiry_warning_days: int | None = None
    account_expiry_warning_days: int | None = None


class SsoIn(BaseModel):
    token: str = Field(min_length=1, max_length=2048)


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class CodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=10)


class TotpEnrollOut(BaseModel):
    secret: str
    provisioning_uri: str


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: dict[str, list[str]]
    must_change_password: bool = False
    totp_verified: bool = True
    totp_enrolled: bool = False
    csrf_token: str | None = None
    expires_at: datetime | None = None
    idle_expires_at: datetime | None = None


class InstitutionIn(Reasoned):
    code: str = Field(max_length=50)
    name: str = Field(max_length=200)
    kind: str
    parent_code: str | None = None


class InstitutionPatch(Reasoned):
    name: str | None = None
    kind: str | None = None
    parent_code: str | None = None
    active: bool | None = None


class DepartmentIn(Reasoned):
    institution_code: str
    code: str = Field(max_length=50)
    name: str = Field(max_length=200)


class DepartmentPatch(Reasoned):
    name: str | None = None
    active: bool | None = None


class UserIn(Reasoned):
    username: str = Field(max_length=64)
    employee_no: str = Field(max_length=32)
    display_name: str = Field(max_length=100)
    institution_code: str
    department_code: str | None = None
    phone: str | None = Field(default=None, max_length=30)
    id_number: str | None = Field(default=None, max_length=30)
    expires_at: datetime | None = None
    initial_password: str | None = Field(default=None, max_length=256)


class UserPatch(Reasoned):
    display_name: str | None = Field(default=None, max_length=100)
    department_code: str | None = None
    phone: str | None = Field(default=None, max_length=30)
    id_number: str | None = Field(default=None, max_length=30)
    expires_at: datetime | None = None


class RoleIn(Reasoned):
    role: str
    institution: str


class TemporaryPasswordOut(BaseModel):
    username: str
    temporary_password: str


class ApiClientIn(Reasoned):
    key_id: str
    name: str
    allowed_networks: list[str]
    process_keys: list[str] = []
    message_names: list[str] = []
    institution: str = "*"


class ApiClientPermissionsIn(Reasoned):
    process_keys: list[str] = []
    message_names: list[str] = []
    institution: str = "*"


class ChainOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


# Only the values to change, each within the range the engine allows (engine.SECURITY_LIMITS).
SettingsIn = create_model(
    "SettingsIn", __base__=Reasoned,
    **{name: (int | None, Field(None, ge=low, le=high)) for name, (low, high) in SECURITY_LIMITS.items()},
)
