"""Typed settings, read once from the environment (prefix HWF_) and passed in explicitly."""
from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    """Every knob of the platform. `os.environ` is read nowhere else."""

    model_config = SettingsConfigDict(env_prefix="HWF_", frozen=True, extra="ignore")

    environment: str = "development"
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = DEV_SECRET
    field_encryption_key: str = ""
    var_dir: Path = PROJECT_ROOT / "var"
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    policies_dir: Path = PROJECT_ROOT / "policies"
    script_timeout_seconds: float = 1.0
    command_retries: int = 3
    session_idle_minutes: int = 15
    session_absolute_hours: int = 12
    lockout_failures: int = 5
    lockout_minutes: int = 15
    api_signature_max_age_seconds: int = 1800
    upload_max_bytes: int = 20 * 1024 * 1024
    inline_worker: bool = True
    # Approval operations and notifications (docs/OPERATIONS.md)
    urge_interval_minutes: int = 30
    upload_extensions: tuple[str, ...] = ("pdf", "png", "jpg", "jpeg", "docx", "xlsx", "doc", "xls")
    # channel name -> webhook URL; channels: sms, wecom, dingtalk (in-app is always on)
    notify_channels: dict[str, str] = {}
    notify_max_attempts: int = 8
    quiet_hours: str = "22:00-07:00"  # local time; non-urgent channel messages wait until the end
    timezone: str = "Asia/Shanghai"
    sql_echo: bool = False
    # Background work (engine/jobs, timers, messages, connectors, webhooks)
    job_lease_seconds: float = 300.0
    job_poll_seconds: float = 0.5
    job_backoff_seconds: float = 5.0
    job_backoff_max_seconds: float = 3600.0
    job_batch_size: int = 20
    tick_seconds: float = 30.0
    celery_beat_seconds: float = 1.0
    connector_urls: dict[str, str] = {}
    connector_timeout_seconds: float = 10.0
    connector_max_attempts: int = 5
    connector_http_allowed_hosts: list[str] = []
    message_ttl_seconds: int = 7 * 24 * 3600
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    default_institution: str = "default"

    # ---- identity and security baseline (issue 3) ----
    blind_index_key: str = ""  # base64; derived from field_encryption_key when empty
    password_min_length: int = 10
    password_history: int = 5
    password_max_age_days: int = 90
    password_warn_days: int = 7
    account_expiry_warn_days: int = 30
    policy_reload_seconds: float = 1.0
    # How long this process may answer a session from memory: logout, deactivation or a role change made
    # in another process takes up to this long here (engine/identity/session_cache.py). 0: always read.
    session_cache_seconds: float = 1.0
    sso_secret: str = ""  # shared with the hospital portal; SSO disabled when empty
    sso_audience: str = "hospital-workflow"
    sso_max_ttl_seconds: int = 300
    # The portal's auth centre: a deep link opened without a session is sent there (`?service=<callback>`)
    # and comes back to /api/auth/sso with a fresh hand-off token. Empty: such links go to /login.
    sso_login_url: str = ""
    trusted_proxies: str = ""  # comma-separated addresses whose X-Forwarded-For is believed

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ValueError("HWF_SECRET_KEY must be set outside development")
        if self.environment != "development" and not self.field_encryption_key:
            raise ValueError("HWF_FIELD_ENCRYPTION_KEY must be set outside development")
        if "," in self.field_encryption_key and not self.blind_index_key:
            # Derived from the whole key setting, the blind index would change with the rotation and every
            # phone / ID number lookup would miss (docs/BPMN_EXTENSIONS.md, "Key rotation").
            raise ValueError("HWF_BLIND_INDEX_KEY must be pinned before HWF_FIELD_ENCRYPTION_KEY lists a second key")
        return self

    @property
    def effective_database_url(self) -> str:
        """`HWF_DATABASE_URL`, or the embedded SQLite file under var/."""
        return self.database_url or f"sqlite:///{self.var_dir / 'hospital.db'}"
