"""Admin pages that create accounts: one user (with an initial password) and the bulk CSV import.

Both need ``identity:admin`` in some institution to open (else the engine's audited 403); the engine
commands check the institution of every account. The import is all rows or none, as the engine does it.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

import engine
from api.pages.admin_base import (
    error_text,
    form_errors,
    institution_choices,
    institutions_in,
    render_admin,
    require_scope,
    submit_form,
)
from api.pages.common import PageCtx, PageSubject, form_text, html_errors, redirect, t
from engine import EngineContext, Subject
from engine.errors import ValidationFailed

router = APIRouter(prefix="/admin", include_in_schema=False)
USER_FIELDS = ("username", "employee_no", "display_name", "phone", "id_number", "institution", "department")
IMPORT_MAX_BYTES = 2 * 1024 * 1024


def _user_form(request: Request, ctx: EngineContext, subject: Subject, *, errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    scope = require_scope(ctx, subject, "identity", "admin", "admin.user_new")
    institutions = institutions_in(ctx, scope)
    names = {i.code: i.name for i in institutions}
    groups: dict[str, list[tuple[str, str]]] = {}
    for d in engine.list_departments(ctx):
        if d.active and d.institution_code in names:
            groups.setdefault(f"{names[d.institution_code]} ({d.institution_code})", []).append((d.code, d.name))
    return render_admin(request, "admin_user_new.html", "user_new", status_code=status_code,
                        institutions=institution_choices(request, institutions), department_groups=groups,
                        errors=errors or {}, values=values or {})


@router.get("/users/new", response_class=HTMLResponse)
@html_errors
def new_user(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _user_form(request, ctx, subject)


@router.post("/users/new", response_class=HTMLResponse)
@html_errors
async def create_user(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    def command(v: dict[str, Any], form: Any) -> engine.UserView:
        fields = engine.UserFields(v["display_name"], v["department"] or None, v["phone"] or None,
                                   v["id_number"] or None, None)
        return engine.create_user(ctx, subject, username=v["username"], employee_no=v["employee_no"],
                                  display_name=v["display_name"], institution_code=v["institution"], fields=fields,
                                  initial_password=str(form.get("initial_password") or "")[:200] or None,
                                  reason=form_text(form, "reason"))

    return await submit_form(
        request, USER_FIELDS, command,
        lambda errors, v, status: _user_form(request, ctx, subject, errors=errors, values=v, status_code=status),
        lambda user: redirect(f"/admin/users?q={user.username}&flash=admin_user_created"),
        rename={"department_code": "department", "new_password": "initial_password"})


def _import_page(request: Request, ctx: EngineContext, subject: Subject, *, status_code: int = 200,
                 **context: Any) -> HTMLResponse:
    require_scope(ctx, subject, "identity", "admin", "admin.user_import")
    return render_admin(request, "admin_user_import.html", "user_import", status_code=status_code,
                        columns=engine.USER_IMPORT_COLUMNS, **{"errors": {}, "rows": [], "result": None, **context})


@router.get("/users/import", response_class=HTMLResponse)
@html_errors
def import_form(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _import_page(request, ctx, subject)


def row_errors(request: Request, exc: ValidationFailed) -> list[tuple[int, str, str]]:
    """(line in the file, column, message) per bad cell; the header is line 1, so row n is line n + 1."""
    found = []
    for err in exc.errors:
        parts = err.pointer.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit():
            found.append((int(parts[1]) + 1, parts[2], error_text(request, err.validator, err.message)))
    return found


@router.post("/users/import", response_class=HTMLResponse)
@html_errors
async def import_users(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    upload = form.get("file")
    content = await upload.read(IMPORT_MAX_BYTES + 1) if hasattr(upload, "read") else b""
    try:
        result = await run_in_threadpool(engine.import_users_csv, ctx, subject, content,
                                         reason=form_text(form, "reason"))
    except ValidationFailed as exc:
        rows = row_errors(request, exc)
        fields = {k: m for k, m in form_errors(request, exc).items() if k in ("file", "reason")}
        banner = t(request, "admin.import_failed", n=len({line for line, _, _ in rows})) if rows else exc.message
        return _import_page(request, ctx, subject, status_code=422, rows=rows, errors={"": banner, **fields})
    return _import_page(request, ctx, subject, result=result)
