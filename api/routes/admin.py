"""Administration: institutions, departments, users, roles, CSV import, unlock, API clients, policies.

Authorization happens in the engine commands (Casbin, separation of duties); every change
carries a reason that lands in the audit trail.
"""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.identity import (
    ApiClientIn,
    ApiClientPermissionsIn,
    DepartmentIn,
    DepartmentPatch,
    InstitutionIn,
    InstitutionPatch,
    Reasoned,
    RoleIn,
    SettingsIn,
    TemporaryPasswordOut,
    UserIn,
    UserPatch,
)

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/institutions", response_model=list[engine.InstitutionView])
def institutions(
    ctx: Ctx, _subject: CurrentSubject, include_inactive: bool = False
) -> list[engine.InstitutionView]:
    return engine.list_institutions(ctx, include_inactive=include_inactive)


@router.post("/institutions", response_model=engine.InstitutionView, status_code=201)
def create_institution(body: InstitutionIn, ctx: Ctx, subject: CurrentSubject) -> engine.InstitutionView:
    return engine.create_institution(
        ctx,
        subject,
        code=body.code,
        name=body.name,
        kind=body.kind,
        parent_code=body.parent_code,
        reason=body.reason,
    )


@router.patch("/institutions/{code}", response_model=engine.InstitutionView)
def update_institution(
    code: str, body: InstitutionPatch, ctx: Ctx, subject: CurrentSubject
) -> engine.InstitutionView:
    return engine.update_institution(
        ctx,
        subject,
        code,
        name=body.name,
        kind=body.kind,
        parent_code=body.parent_code,
        active=body.active,
        reason=body.reason,
    )


@router.get("/departments", response_model=list[engine.DepartmentView])
def departments(
    ctx: Ctx, _subject: CurrentSubject, institution: str | None = None
) -> list[engine.DepartmentView]:
    return engine.list_departments(ctx, institution)


@router.post("/departments", response_model=engine.DepartmentView, status_code=201)
def create_department(body: DepartmentIn, ctx: Ctx, subject: CurrentSubject) -> engine.DepartmentView:
    return engine.create_department(
        ctx,
        subject,
        institution_code=body.institution_code,
        code=body.code,
        name=body.name,
        reason=body.reason,
    )


@router.patch("/departments/{department_id}", response_model=engine.DepartmentView)
def update_department(
    department_id: str, body: DepartmentPatch, ctx: Ctx, subject: CurrentSubject
) -> engine.DepartmentView:
    return engine.update_department(
        ctx, subject, department_id, name=body.name, active=body.active, reason=body.reason
    )


@router.get("/users", response_model=list[engine.UserView])
def users(
    ctx: Ctx,
    subject: CurrentSubject,
    institution: str | None = None,
    q: str = Query("", max_length=50),
    phone: str | None = Query(None, max_length=30),
    active: bool | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[engine.UserView]:
    return engine.list_users(
        ctx,
        subject,
        institution_code=institution,
        q=q,
        phone=phone,
        active=active,
        limit=limit,
        offset=offset,
    )


@router.post("/users", response_model=engine.UserView, status_code=201)
def create_user(body: UserIn, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    fields = engine.UserFields(
        body.display_name, body.department_code, body.phone, body.id_number, body.expires_at
    )
    return engine.create_user(
        ctx,
        subject,
        username=body.username,
        employee_no=body.employee_no,
        display_name=body.display_name,
        institution_code=body.institution_code,
        fields=fields,
        initial_password=body.initial_password,
        reason=body.reason,
    )


@router.patch("/users/{user_id}", response_model=engine.UserView)
def update_user(user_id: str, body: UserPatch, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    fields = engine.UserFields(
        body.display_name, body.department_code, body.phone, body.id_number, body.expires_at
    )
    return engine.update_user(ctx, subject, user_id, fields, reason=body.reason)


@router.post("/users/import", response_model=engine.UserImportResult, status_code=201)
async def import_users(
    ctx: Ctx,
    subject: CurrentSubject,
    file: UploadFile = File(...),  # noqa: B008 - FastAPI's documented form for uploads
    reason: str = Form(..., min_length=2, max_length=1000),
) -> engine.UserImportResult:
    content = await file.read(2 * 1024 * 1024 + 1)
    return await run_in_threadpool(engine.import_users_csv, ctx, subject, content, reason=reason)


@router.post("/users/{user_id}/deactivate", response_model=engine.UserView)
def deactivate_user(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    return engine.set_user_active(ctx, subject, user_id, False, reason=body.reason)


@router.post("/users/{user_id}/activate", response_model=engine.UserView)
def activate_user(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    return engine.set_user_active(ctx, subject, user_id, True, reason=body.reason)


@router.post("/users/{user_id}/unlock", response_model=engine.UserView)
def unlock_user(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    return engine.unlock_user(ctx, subject, user_id, reason=body.reason)


@router.post("/users/{user_id}/reset-password", response_model=TemporaryPasswordOut)
def reset_password(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> TemporaryPasswordOut:
    temporary = engine.reset_password(ctx, subject, user_id, reason=body.reason)
    return TemporaryPasswordOut(username=user_id, temporary_password=temporary)


@router.post("/users/{user_id}/reset-totp", response_model=engine.UserView)
def reset_totp(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> engine.UserView:
    return engine.reset_totp(ctx, subject, user_id, reason=body.reason)


@router.post("/users/{user_id}/reveal")
def reveal(user_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject) -> dict[str, str]:
    return engine.reveal_user_pii(ctx, subject, user_id, reason=body.reason)


@router.post("/users/{username}/roles", status_code=201)
def assign_role(username: str, body: RoleIn, ctx: Ctx, subject: CurrentSubject) -> dict[str, bool]:
    return {
        "changed": engine.assign_role(ctx, subject, username, body.role, body.institution, reason=body.reason)
    }


@router.post("/users/{username}/roles/revoke")
def revoke_role(username: str, body: RoleIn, ctx: Ctx, subject: CurrentSubject) -> dict[str, bool]:
    return {
        "changed": engine.revoke_role(ctx, subject, username, body.role, body.institution, reason=body.reason)
    }


@router.get("/roles")
def roles(ctx: Ctx, _subject: CurrentSubject) -> dict[str, str]:
    return engine.known_roles(ctx)


@router.get("/policies")
def policies(
    ctx: Ctx, subject: CurrentSubject, ptype: str | None = Query(None, pattern="^(p|g)$")
) -> list[list[str]]:
    return engine.list_policies(ctx, subject, ptype)


@router.get("/settings")
def security_settings(ctx: Ctx, subject: CurrentSubject) -> dict[str, object]:
    return engine.security_settings(ctx, subject)


@router.patch("/settings")
def update_security_settings(body: SettingsIn, ctx: Ctx, subject: CurrentSubject) -> dict[str, object]:
    """Change password, lockout and session values (security administrators; each within its range)."""
    return engine.update_security_settings(ctx, subject, body.model_dump(exclude_none=True, exclude={"reason"}),
                                           reason=body.reason)


@router.get("/api-clients", response_model=list[engine.ApiClientView])
def api_clients(ctx: Ctx, subject: CurrentSubject) -> list[engine.ApiClientView]:
    return engine.list_api_clients(ctx, subject)


@router.post("/api-clients", response_model=engine.ApiClientSecret, status_code=201)
def create_api_client(body: ApiClientIn, ctx: Ctx, subject: CurrentSubject) -> engine.ApiClientSecret:
    return engine.create_api_client(
        ctx,
        subject,
        key_id=body.key_id,
        name=body.name,
        allowed_networks=body.allowed_networks,
        process_keys=body.process_keys,
        message_names=body.message_names,
        institution=body.institution,
        reason=body.reason,
    )


@router.post("/api-clients/{key_id}/rotate", response_model=engine.ApiClientSecret)
def rotate_api_client(
    key_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject
) -> engine.ApiClientSecret:
    return engine.rotate_api_client_secret(ctx, subject, key_id, reason=body.reason)


@router.post("/api-clients/{key_id}/disable", response_model=engine.ApiClientView)
def disable_api_client(
    key_id: str, body: Reasoned, ctx: Ctx, subject: CurrentSubject
) -> engine.ApiClientView:
    return engine.set_api_client_active(ctx, subject, key_id, False, reason=body.reason)


@router.put("/api-clients/{key_id}/permissions", response_model=engine.ApiClientView)
def api_client_permissions(
    key_id: str, body: ApiClientPermissionsIn, ctx: Ctx, subject: CurrentSubject
) -> engine.ApiClientView:
    return engine.set_api_client_permissions(
        ctx,
        subject,
        key_id,
        process_keys=body.process_keys,
        message_names=body.message_names,
        institution=body.institution,
        reason=body.reason,
    )
