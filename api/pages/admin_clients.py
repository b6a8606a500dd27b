"""Admin page for API clients (external systems): list, register, rotate the secret, disable / enable.

Security admins only (``security:read`` to look, ``security:admin`` to change, decided and audited by the
engine). A new or rotated secret is shown once, in the answer to that POST, and never again.
"""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.admin_base import institution_choices, may, render_admin, submit_form
from api.pages.common import PageCtx, PageSubject, form_text, html_errors, redirect
from engine import EngineContext, Subject

router = APIRouter(prefix="/admin", include_in_schema=False)
CLIENT_FIELDS = ("key_id", "name", "allowed_networks", "message_names", "institution")


def _list(value: str) -> list[str]:
    """Items of a textarea: one per line, or separated by commas or spaces."""
    return [p for p in re.split(r"[\s,，]+", value) if p][:100]


def _clients_page(request: Request, ctx: EngineContext, subject: Subject, *, secret: Any = None,
                  errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    clients = engine.list_api_clients(ctx, subject)
    response = render_admin(
        request, "admin_api_clients.html", "api_clients", status_code=status_code, clients=clients, secret=secret,
        can_edit=may(ctx, subject, "*", "security", "admin"),
        processes=[(d.process_key, f"{d.name} ({d.process_key})") for d in engine.list_definitions(ctx)],
        institutions=institution_choices(request, engine.list_institutions(ctx), with_all=True),
        errors=errors or {}, values=values or {"institution": "*", "process_keys": []})
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@router.get("/api-clients", response_class=HTMLResponse)
@html_errors
def api_clients(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _clients_page(request, ctx, subject)


@router.post("/api-clients", response_class=HTMLResponse)
@html_errors
async def create_api_client(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    return await submit_form(
        request, CLIENT_FIELDS,
        lambda v, form: engine.create_api_client(
            ctx, subject, key_id=v["key_id"], name=v["name"], allowed_networks=_list(v["allowed_networks"]),
            process_keys=v["process_keys"], message_names=_list(v["message_names"]),
            institution=v["institution"] or "*", reason=form_text(form, "reason")),
        lambda errors, v, status: _clients_page(request, ctx, subject, errors=errors, values=v, status_code=status),
        lambda secret: _clients_page(request, ctx, subject, secret=secret, status_code=201),
        lists=("process_keys",), rename={"permissions": "message_names"})


@router.post("/api-clients/{key_id}/{action}", response_class=HTMLResponse)
@html_errors
async def api_client_action(key_id: str, action: str, request: Request, ctx: PageCtx,
                            subject: PageSubject) -> Response:
    form = await request.form()
    reason = form_text(form, "reason")
    if action == "rotate":
        secret = engine.rotate_api_client_secret(ctx, subject, key_id, reason=reason)
        return _clients_page(request, ctx, subject, secret=secret)
    if action in ("disable", "enable"):
        engine.set_api_client_active(ctx, subject, key_id, action == "enable", reason=reason)
    return redirect("/admin/api-clients?flash=admin_client_saved")
