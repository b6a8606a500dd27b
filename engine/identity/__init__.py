"""Identity, sessions, admin management and Casbin policy storage (issue 3). Public names only."""

from engine.identity.audit_log import list_audit_records, verify_audit_log
from engine.identity.captcha import captcha_text, issue_captcha
from engine.identity.clients import (
    authenticate_signed_request,
    create_api_client,
    list_api_clients,
    rotate_api_client_secret,
    set_api_client_active,
    set_api_client_permissions,
)
from engine.identity.credentials import (
    TotpEnrollment,
    change_password,
    confirm_totp,
    enroll_totp,
    sso_login,
    verify_session_totp,
)
from engine.identity.demo import DEMO_PASSWORD, load_demo_identity
from engine.identity.nonces import DbNonceStore, nonce_store
from engine.identity.org import (
    create_department,
    create_institution,
    list_departments,
    list_institutions,
    update_department,
    update_institution,
)
from engine.identity.policy import (
    DbPolicyAdapter,
    authorizer,
    install_policy_hook,
    permitted_institutions,
    record_access_denied,
    seed_policy,
)
from engine.identity.roles import assign_role, known_roles, list_policies, revoke_role
from engine.identity.security_policy import LIMITS as SECURITY_LIMITS
from engine.identity.security_policy import security_settings, update_security_settings
from engine.identity.sessions import (
    LoginRefused,
    LoginResult,
    SessionInfo,
    cached_session,
    login,
    logout,
    resolve_session,
)
from engine.identity.user_import import COLUMNS as USER_IMPORT_COLUMNS
from engine.identity.user_import import import_users_csv
from engine.identity.users import (
    UserFields,
    create_user,
    list_users,
    reset_password,
    reset_totp,
    reveal_user_pii,
    set_user_active,
    unlock_user,
    update_user,
)
from engine.identity.views import (
    ApiClientSecret,
    ApiClientView,
    AuditEntry,
    DepartmentView,
    InstitutionView,
    UserImportResult,
    UserView,
)
from engine.models.identity import INSTITUTION_KINDS

__all__ = [
    "DEMO_PASSWORD",
    "INSTITUTION_KINDS",
    "USER_IMPORT_COLUMNS",
    "ApiClientSecret",
    "ApiClientView",
    "AuditEntry",
    "DbNonceStore",
    "DbPolicyAdapter",
    "DepartmentView",
    "UserImportResult",
    "InstitutionView",
    "LoginRefused",
    "LoginResult",
    "SessionInfo",
    "TotpEnrollment",
    "UserFields",
    "UserView",
    "assign_role",
    "authenticate_signed_request",
    "authorizer",
    "cached_session",
    "change_password",
    "confirm_totp",
    "create_api_client",
    "create_department",
    "create_institution",
    "create_user",
    "enroll_totp",
    "import_users_csv",
    "install_policy_hook",
    "known_roles",
    "list_api_clients",
    "list_audit_records",
    "list_departments",
    "list_institutions",
    "list_policies",
    "list_users",
    "load_demo_identity",
    "login",
    "logout",
    "nonce_store",
    "permitted_institutions",
    "record_access_denied",
    "reset_password",
    "reset_totp",
    "resolve_session",
    "reveal_user_pii",
    "revoke_role",
    "rotate_api_client_secret",
    "SECURITY_LIMITS",
    "security_settings",
    "issue_captcha",
    "captcha_text",
    "update_security_settings",
    "seed_policy",
    "set_api_client_active",
    "set_api_client_permissions",
    "set_user_active",
    "sso_login",
    "unlock_user",
    "update_department",
    "update_institution",
    "update_user",
    "verify_audit_log",
    "verify_session_totp",
]
