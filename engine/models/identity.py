"""Identity aggregate: institutions, departments, users, sessions, API clients, Casbin policy rows.

Sensitive columns (phone, ID number, TOTP and client secrets) hold FieldCipher ciphertext; the
``*_bidx`` columns hold blind indexes for exact-match lookup without decryption.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, new_id, utcnow

INSTITUTION_KINDS = ("hospital", "campus", "community")


class Institution(Base):
    """A Casbin domain: hospital, campus (院区) or community health centre."""

    __tablename__ = "institutions"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("institutions.code"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("institution_code", "code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("username"),
        UniqueConstraint("employee_no"),
        Index("ix_users_phone_bidx", "phone_bidx"),
        Index("ix_users_id_number_bidx", "id_number_bidx"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64))
    employee_no: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(100))
    institution_code: Mapped[str] = mapped_column(ForeignKey("institutions.code"))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("departments.id"))
    phone_enc: Mapped[str | None] = mapped_column(String(200))
    phone_bidx: Mapped[str | None] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(String(200))
    id_number_bidx: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    # Newest first, current hash included, at most PasswordPolicy.history entries.
    password_history: Mapped[list] = mapped_column(JSON, default=list)
    password_changed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(default=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    totp_secret_enc: Mapped[str | None] = mapped_column(String(200))
    totp_pending_enc: Mapped[str | None] = mapped_column(String(200))
    totp_last_step: Mapped[int | None]
    # Honoured only when settings.environment == "development" (demo data).
    totp_exempt: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    login_count: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("token_hash"), Index("ix_sessions_user", "user_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    totp_verified: Mapped[bool] = mapped_column(default=False)
    via: Mapped[str] = mapped_column(String(10), default="password")  # password | sso
    ip: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(30))


class ApiClientRecord(Base):
    __tablename__ = "api_clients"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_enc: Mapped[str] = mapped_column(String(300))
    allowed_networks: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]


class CasbinRule(Base):
    """Casbin policy lines (same shape as casbin-sqlalchemy-adapter's table)."""

    __tablename__ = "casbin_rule"
    __table_args__ = (Index("ix_casbin_rule_lookup", "ptype", "v0", "v1"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ptype: Mapped[str] = mapped_column(String(10))
    v0: Mapped[str | None] = mapped_column(String(255))
    v1: Mapped[str | None] = mapped_column(String(255))
    v2: Mapped[str | None] = mapped_column(String(255))
    v3: Mapped[str | None] = mapped_column(String(255))
    v4: Mapped[str | None] = mapped_column(String(255))
    v5: Mapped[str | None] = mapped_column(String(255))


class PolicyVersion(Base):
    """One row; bumped in the same transaction as every policy change."""

    __tablename__ = "policy_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecuritySetting(Base):
    """An administrator's override of one password/lockout/session setting (the default is the HWF_* value)."""

    __tablename__ = "security_settings"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginCaptcha(Base):
    """A graphic captcha challenge shown after a failed login; used once, then deleted."""

    __tablename__ = "login_captchas"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    answer: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UnknownLoginFailures(Base):
    """Failed logins for an identifier that names no account, keyed by its blind index (never the text).

    Lets a wrong name meet the same captcha and lockout as a wrong password, so the answers do not tell
    which accounts exist. Rows whose failures no longer count are deleted on the way.
    """

    __tablename__ = "unknown_login_failures"

    identifier_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class UsedNonce(Base):
    """Anti-replay store on the database (used when no Redis is configured)."""

    __tablename__ = "used_nonces"
    __table_args__ = (Index("ix_used_nonces_expires", "expires_at"),)

    key_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float]
