"""Shared by the admin pages: the admin sub-navigation, the entry check of a page, pickers and form errors.

Which links and forms an admin sees comes from the engine's Casbin decisions
(`engine.permitted_institutions`); every command decides again and audits its refusals.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.errors import status_for
from api.i18n import messages
from api.pages.common import form_text, lang_of, render, t
from engine import EngineContext, Subject
from engine.errors import Conflict, EngineError, ValidationFailed

T = TypeVar("T")
# Refusals a form page shows next to its fields (403/404 render the error page through html_errors).
FORM_REFUSALS = (ValidationFailed, Conflict)
# (page key, URL, the (object, action) pairs of which one must be allowed in some institution)
ADMIN_LINKS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("users", "/admin/users", (("identity", "read"), ("security", "read"))),
    ("user_new", "/admin/users/new", (("identity", "admin"),)),
    ("user_import", "/admin/users/import", (("identity", "admin"),)),
    ("institutions", "/admin/institutions", (("identity", "read"),)),
    ("departments", "/admin/departments", (("identity", "read"),)),
    ("api_clients", "/admin/api-clients", (("security", "read"),)),
    ("security", "/admin/security", (("security", "read"),)),
    ("audit", "/admin/audit", (("audit", "read"),)),
)


def admin_links(ctx: EngineContext, subject: Subject) -> list[tuple[str, str]]:
    links = [(key, href) for key, href, needs in ADMIN_LINKS
             if any(engine.permitted_institutions(ctx, subject, obj, act) for obj, act in needs)]
    incidents = engine.allowed_somewhere(ctx, subject, "incident", "admin")
    return links + ([("incidents", "/admin/incidents")] if incidents else [])


def render_admin(request: Request, template: str, page: str, *, status_code: int = 200,
                 **context: Any) -> HTMLResponse:
    """An admin page inside the layout, with the admin sub-navigation (`page` is the current link)."""
    links = admin_links(request.app.state.ctx, request.state.subject)
    return render(request, template, status_code=status_code, nav_active="admin", admin_links=links,
                  admin_page=page, **context)


def require_scope(ctx: EngineContext, subject: Subject, obj: str, act: str, page: str) -> list[str]:
    """The institutions (``*`` = all) where the subject may act; none: the engine's audited 403."""
    scope = engine.permitted_institutions(ctx, subject, obj, act)
    if not scope:
        engine.require_permission(ctx, subject, "*", obj, act, command=page)
    return scope


def institutions_in(ctx: EngineContext, scope: list[str], *,
                    include_inactive: bool = False) -> list[engine.InstitutionView]:
    """Institutions inside a scope from `require_scope` (every one when it holds ``*``)."""
    rows = engine.list_institutions(ctx, include_inactive=include_inactive)
    return rows if "*" in scope else [r for r in rows if r.code in scope]


def may(ctx: EngineContext, subject: Subject, institution: str, obj: str, act: str) -> bool:
    """The engine's Casbin decision, to show a form only to who may submit it (no audit)."""
    return engine.policy_allows(engine.authorizer(ctx), subject, institution, obj, act)


def institution_choices(request: Request, rows: list[engine.InstitutionView], *,
                        with_all: bool = False) -> list[tuple[str, str]]:
    """(code, label) options of an institution <select>; `with_all` adds ``*`` (every institution)."""
    every = [("*", t(request, "admin.all_institutions"))] if with_all else []
    return every + [(r.code, f"{r.name} ({r.code})") for r in rows]


def error_text(request: Request, validator: str | None, fallback: str) -> str:
    """A field error in the page's language (`invalid.<validator>`, `password.rule.<validator>`), else the
    engine's own text."""
    known = messages(lang_of(request))
    key = next((k for k in (f"invalid.{validator}", f"password.rule.{validator}") if k in known), None)
    return t(request, key) if validator and key else fallback


async def submit_form(request: Request, names: tuple[str, ...], command: Callable[[dict[str, Any], Any], T],
                      show: Callable[[dict[str, str], dict[str, Any], int], HTMLResponse],
                      success: Callable[[T], Response], *, lists: tuple[str, ...] = (),
                      rename: dict[str, str] | None = None) -> Response:
    """Read a posted admin form and run one engine command with its values (`lists`: multi-selects).

    A validation failure or conflict shows the form again with the errors and what was typed (422/409;
    `rename` maps engine field names to the form's). Other refusals (403, 404) reach `html_errors`.
    """
    form = await request.form()
    values: dict[str, Any] = {name: form_text(form, name, 2000) for name in names}
    values.update({name: [str(v)[:100] for v in form.getlist(name)][:100] for name in lists})
    try:
        result = command(values, form)
    except FORM_REFUSALS as exc:
        return show(form_errors(request, exc, rename), values, status_for(exc))
    return success(result)


def form_errors(request: Request, exc: EngineError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """Messages by field name ("" = the form as a whole) from a refused command."""
    errors: dict[str, str] = {}
    for err in getattr(exc, "errors", None) or []:
        name = err.pointer.strip("/").split("/")[-1]
        name = (rename or {}).get(name, name)
        errors.setdefault(name, error_text(request, err.validator, err.message))
    if not errors:
        errors[""] = exc.message
    return errors
