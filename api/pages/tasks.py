"""Task page: the step's form rendered server-side, and the actions this user may take."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.forms_render import parse_form_submission, render_form_html
from api.pages.common import PageCtx, PageSubject, html_errors, lang_of, redirect, render
from api.pages.operations import removable_signers, send_back_targets
from engine import Subject, TaskDetail
from engine.errors import EngineError, ValidationFailed

router = APIRouter(include_in_schema=False)
OUTCOME_FIELD = "outcome"


def _page(request: Request, detail: TaskDetail, subject: Subject, *, data: dict[str, Any] | None = None,
          errors: list[Any] | None = None, status_code: int = 200) -> HTMLResponse:
    actions = engine.task_actions(request.app.state.ctx, subject, detail.task.id)
    editable = "complete" in actions
    schema = detail.schema
    if schema and not editable:
        # Someone who may only read (initiator, former assignee) sees every field disabled.
        schema = {**schema, "properties": {k: {**v, "readOnly": True}
                                           for k, v in (schema.get("properties") or {}).items()}}
    form_html = render_form_html(schema, detail.ui, data if data is not None else detail.data, errors,
                                 lang=lang_of(request))
    has_outcome_field = bool(schema and OUTCOME_FIELD in (schema.get("properties") or {}))
    has_files = bool(schema and any(p.get("format") in ("attachment", "file")
                                    for p in (schema.get("properties") or {}).values()))
    return render(request, "task.html", status_code=status_code, detail=detail, task=detail.task,
                  actions=actions, form_html=form_html, has_outcome_field=has_outcome_field,
                  has_files=has_files, has_errors=bool(errors), nav_active="todo",
                  targets=send_back_targets(detail), signers=removable_signers(request, detail, actions),
                  comments=_safe(engine.list_comments, request, detail),
                  attachments=_safe(engine.list_attachments, request, detail))


def _safe(lister: Any, request: Request, detail: TaskDetail) -> list[Any]:
    try:
        return lister(request.app.state.ctx, detail.task.instance_id, request.state.subject)
    except EngineError:
        return []


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
@html_errors
def show_task(task_id: str, request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    return _page(request, engine.get_task(ctx, task_id, subject), subject)


@router.post("/tasks/{task_id}", response_class=HTMLResponse)
@html_errors
async def submit_task(task_id: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    detail = engine.get_task(ctx, task_id, subject)
    form = await request.form()
    data = parse_form_submission(detail.schema, form, detail.ui)
    outcome = form.get("_outcome") or data.get(OUTCOME_FIELD)
    outcome = str(outcome) if outcome else None
    if detail.schema and OUTCOME_FIELD not in (detail.schema.get("properties") or {}):
        data.pop(OUTCOME_FIELD, None)
    try:
        engine.complete_task(ctx, task_id, subject, outcome=outcome, data=data,
                             reason=str(form.get("reason") or "")[:1000])
    except ValidationFailed as exc:
        return _page(request, detail, subject, data={**detail.data, **data}, errors=exc.errors,
                     status_code=422)
    return redirect("/inbox?tab=todo&flash=completed")
