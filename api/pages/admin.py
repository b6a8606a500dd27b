"""Admin pages: users (search, unlock, reset password, (de)activate, roles), security settings, audit log
with chain verification, incidents. The engine decides every right; refusals render the 403 page.
Institutions/departments, account creation and API clients are in admin_org, admin_accounts, admin_clients."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.admin_base import institution_choices, may, render_admin, submit_form
from api.pages.common import PageCtx, PageSubject, form_text, html_errors, lang_of, parse_int, redirect
from engine import EngineContext, Subject

router = APIRouter(prefix="/admin", include_in_schema=False)
USER_ACTIONS = ("unlock", "reset_password", "deactivate", "activate")


def _users_page(request: Request, ctx: EngineContext, users: list[engine.UserView], *, q: str = "",
                institution: str = "", temp_password: str | None = None) -> HTMLResponse:
    roles = engine.known_roles(ctx, lang_of(request))
    institutions = engine.list_institutions(ctx)
    return render_admin(request, "admin_users.html", "users", users=users, q=q, institution=institution,
                        temp_password=temp_password, roles=[(r, f"{label} ({r})") for r, label in roles.items()],
                        institutions=institution_choices(request, institutions),
                        role_institutions=institution_choices(request, institutions, with_all=True))


@router.get("/users", response_class=HTMLResponse)
@html_errors
def users(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    p = request.query_params
    rows = engine.list_users(ctx, subject, institution_code=p.get("institution") or None, q=p.get("q", "")[:100],
                             offset=max(0, (parse_int(p.get("page"), 1) or 1) - 1) * 50)
    return _users_page(request, ctx, rows, q=p.get("q", ""), institution=p.get("institution", ""))


@router.post("/users/{user_id}/{action}", response_class=HTMLResponse)
@html_errors
async def user_action(user_id: str, action: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    reason = form_text(form, "reason")
    if action == "unlock":
        engine.unlock_user(ctx, subject, user_id, reason=reason)
    elif action == "reset_password":
        return _users_page(request, ctx, [], temp_password=engine.reset_password(ctx, subject, user_id,
                                                                                 reason=reason))
    elif action in ("deactivate", "activate"):
        engine.set_user_active(ctx, subject, user_id, action == "activate", reason=reason)
    else:
        return redirect("/admin/users")
    return redirect("/admin/users?flash=done")


@router.post("/roles/{change}", response_class=HTMLResponse)
@html_errors
async def role_change(change: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    args = [form_text(form, k, 100) for k in ("username", "role", "institution")]
    reason = form_text(form, "reason")
    if change == "assign":
        engine.assign_role(ctx, subject, *args, reason=reason)
    elif change == "revoke":
        engine.revoke_role(ctx, subject, *args, reason=reason)
    return redirect("/admin/users?flash=done")


def _security_page(request: Request, ctx: EngineContext, subject: Subject, errors: dict[str, str] | None = None,
                   values: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    current = engine.security_settings(ctx, subject)
    editable = {name: current[name] for name in engine.SECURITY_LIMITS}
    return render_admin(request, "admin_security.html", "security", status_code=status_code,
                        limits=engine.SECURITY_LIMITS, values=values or editable, errors=errors or {},
                        fixed=sorted((k, v) for k, v in current.items() if k not in editable),
                        can_edit=may(ctx, subject, "*", "security", "admin"))


@router.get("/security", response_class=HTMLResponse)
@html_errors
def security(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _security_page(request, ctx, subject)


@router.post("/security", response_class=HTMLResponse)
@html_errors
async def security_save(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    return await submit_form(
        request, (*engine.SECURITY_LIMITS, "reason"),
        lambda v, form: engine.update_security_settings(
            ctx, subject, {n: v[n] for n in engine.SECURITY_LIMITS}, reason=v["reason"]),
        lambda errors, values, status: _security_page(request, ctx, subject, errors, values, status),
        lambda _: redirect("/admin/security?flash=saved"))


@router.get("/audit", response_class=HTMLResponse)
@html_errors
def audit(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    p = request.query_params
    records = engine.list_audit_records(ctx, subject, actor=p.get("actor") or None, action=p.get("action") or None,
                                        offset=max(0, (parse_int(p.get("page"), 1) or 1) - 1) * 100)
    report = engine.verify_audit_log(ctx, subject)
    return render_admin(request, "admin_audit.html", "audit", records=records, report=report,
                        actor=p.get("actor", ""), action=p.get("action", ""))


@router.get("/incidents", response_class=HTMLResponse)
@html_errors
def incidents(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    engine.require_allowed_somewhere(ctx, subject, "incident", "admin")
    return render_admin(request, "admin_incidents.html", "incidents", incidents=engine.list_incidents(ctx))


@router.post("/incidents/{incident_id}/{action}", response_class=HTMLResponse)
@html_errors
async def incident_action(incident_id: str, action: str, request: Request, ctx: PageCtx,
                          subject: PageSubject) -> Response:
    engine.require_allowed_somewhere(ctx, subject, "incident", "admin")
    form = await request.form()
    reason = form_text(form, "reason")
    if action == "retry":
        engine.retry_incident(ctx, incident_id, actor=subject.username, reason=reason)
    elif action == "skip":
        engine.skip_incident(ctx, incident_id, actor=subject.username, reason=reason)
    return redirect("/admin/incidents?flash=done")
