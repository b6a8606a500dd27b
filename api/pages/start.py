"""Start page: the processes this user may start (by role) and their start forms."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.forms_render import parse_form_submission, render_form_html
from api.pages.common import PageCtx, PageSubject, html_errors, lang_of, redirect, render
from engine import StartableProcess
from engine.errors import ValidationFailed

router = APIRouter(include_in_schema=False)


@router.get("/start", response_class=HTMLResponse)
@html_errors
def start_list(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return render(request, "start_list.html", processes=engine.startable_processes(ctx, subject),
                  nav_active="start")


def _form_page(request: Request, process: StartableProcess, *, data: dict[str, Any] | None = None,
               errors: list[Any] | None = None, institution: str = "", status_code: int = 200
               ) -> HTMLResponse:
    form_html = render_form_html(process.schema, process.ui, data, errors, lang=lang_of(request))
    has_files = bool(process.schema and any(p.get("format") in ("attachment", "file")
                                            for p in (process.schema.get("properties") or {}).values()))
    return render(request, "start_form.html", status_code=status_code, process=process, form_html=form_html,
                  has_errors=bool(errors), has_files=has_files, institution=institution, nav_active="start")


@router.get("/start/{process_key}", response_class=HTMLResponse)
@html_errors
def start_page(process_key: str, request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _form_page(request, engine.start_form(ctx, process_key, subject))


@router.post("/start/{process_key}", response_class=HTMLResponse)
@html_errors
async def start_submit(process_key: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    process = engine.start_form(ctx, process_key, subject)
    form = await request.form()
    data = parse_form_submission(process.schema, form, process.ui)
    institution = str(form.get("_institution") or (process.institutions[0] if process.institutions else ""))
    try:
        view = engine.start_with_form(ctx, process_key, subject, institution=institution, data=data)
    except ValidationFailed as exc:
        return _form_page(request, process, data=data, errors=exc.errors, institution=institution,
                          status_code=422)
    # The first step is often the applicant's own (e.g. 填写申请): go straight to it.
    mine = [t for t in view.open_tasks if "complete" in engine.task_actions(ctx, subject, t.id)]
    if mine:
        return redirect(f"/tasks/{mine[0].id}?flash=started")
    return redirect(f"/instances/{view.id}?flash=started")
