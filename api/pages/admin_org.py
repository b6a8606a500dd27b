"""Admin pages: institutions (Casbin domains) and their departments — list, create, edit, (de)activate.

Every change carries a reason and is audited by the engine command; reading needs ``identity:read``
(institutions: on every institution, ``*``), refused with the engine's audited 403.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.admin_base import institution_choices, institutions_in, may, render_admin, require_scope, submit_form
from api.pages.common import PageCtx, PageSubject, form_text, html_errors, redirect, t
from engine import EngineContext, Subject

router = APIRouter(prefix="/admin", include_in_schema=False)
INSTITUTION_FIELDS = ("code", "name", "kind", "parent_code", "active")
DEPARTMENT_FIELDS = ("institution", "code", "name", "active")


def _institutions_page(request: Request, ctx: EngineContext, subject: Subject, *, errors: dict[str, str] | None = None,
                       values: dict[str, str] | None = None, failed: str = "", status_code: int = 200) -> HTMLResponse:
    engine.require_permission(ctx, subject, "*", "identity", "read", command="admin.institutions")
    rows = engine.list_institutions(ctx, include_inactive=True)
    return render_admin(request, "admin_institutions.html", "institutions", status_code=status_code,
                        institutions=rows, parents=institution_choices(request, rows),
                        kinds=[(k, t(request, f"admin.kind_{k}")) for k in engine.INSTITUTION_KINDS],
                        can_edit=may(ctx, subject, "*", "identity", "admin"),
                        errors=errors or {}, values=values or {}, failed=failed)


@router.get("/institutions", response_class=HTMLResponse)
@html_errors
def institutions(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _institutions_page(request, ctx, subject)


@router.post("/institutions", response_class=HTMLResponse)
@router.post("/institutions/{code}", response_class=HTMLResponse)
@html_errors
async def save_institution(request: Request, ctx: PageCtx, subject: PageSubject, code: str | None = None) -> Response:
    """Create (no code in the path) or update one institution from the posted form."""

    def command(v: dict[str, Any], form: Any) -> object:
        reason = form_text(form, "reason")
        if code is None:
            return engine.create_institution(ctx, subject, code=v["code"], name=v["name"], kind=v["kind"],
                                             parent_code=v["parent_code"] or None, reason=reason)
        return engine.update_institution(ctx, subject, code, name=v["name"] or None, kind=v["kind"] or None,
                                         parent_code=v["parent_code"], active=v["active"] == "1", reason=reason)

    return await submit_form(
        request, INSTITUTION_FIELDS, command,
        lambda errors, v, status: _institutions_page(request, ctx, subject, errors=errors, values=v,
                                                     failed=code or "new", status_code=status),
        lambda _: redirect("/admin/institutions?flash=admin_institution_saved"))


def _departments_page(request: Request, ctx: EngineContext, subject: Subject, institution: str, *,
                      errors: dict[str, str] | None = None, values: dict[str, str] | None = None, failed: str = "",
                      status_code: int = 200) -> HTMLResponse:
    choices = institutions_in(ctx, require_scope(ctx, subject, "identity", "read", "admin.departments"),
                              include_inactive=True)
    institution = institution or (choices[0].code if choices else "")
    if institution not in {c.code for c in choices}:
        engine.require_permission(ctx, subject, institution or "*", "identity", "read", command="admin.departments")
    return render_admin(request, "admin_departments.html", "departments", status_code=status_code,
                        institution=institution, choices=institution_choices(request, choices),
                        departments=engine.list_departments(ctx, institution),
                        can_edit=may(ctx, subject, institution, "identity", "admin"),
                        errors=errors or {}, values=values or {}, failed=failed)


@router.get("/departments", response_class=HTMLResponse)
@html_errors
def departments(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _departments_page(request, ctx, subject, request.query_params.get("institution", "")[:50])


@router.post("/departments", response_class=HTMLResponse)
@router.post("/departments/{department_id}", response_class=HTMLResponse)
@html_errors
async def save_department(request: Request, ctx: PageCtx, subject: PageSubject,
                          department_id: str | None = None) -> Response:
    """Create (no id in the path) or update one department from the posted form, then back to its institution."""

    def command(v: dict[str, Any], form: Any) -> engine.DepartmentView:
        reason = form_text(form, "reason")
        if department_id is None:
            return engine.create_department(ctx, subject, institution_code=v["institution"], code=v["code"],
                                            name=v["name"], reason=reason)
        return engine.update_department(ctx, subject, department_id, name=v["name"] or None,
                                        active=v["active"] == "1", reason=reason)

    return await submit_form(
        request, DEPARTMENT_FIELDS, command,
        lambda errors, v, status: _departments_page(request, ctx, subject, v["institution"], errors=errors,
                                                    values=v, failed=department_id or "new", status_code=status),
        lambda view: redirect(f"/admin/departments?institution={view.institution_code}"
                              "&flash=admin_department_saved"))

