"""Instance page: the BPMN diagram with highlighted steps, the timeline and the current assignees."""
from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.common import PageCtx, PageSubject, html_errors, render

router = APIRouter(include_in_schema=False)


@router.get("/instances/{instance_id}", response_class=HTMLResponse)
@html_errors
def show_instance(instance_id: str, request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    overview = engine.instance_overview(ctx, instance_id, subject)
    return render(request, "instance.html", o=overview, i=overview.instance,
                  node_states=json.dumps(overview.node_states), nav_active="mine")


@router.get("/instances/{instance_id}/diagram.bpmn")
@html_errors
def instance_diagram(instance_id: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    """The deployed BPMN XML of the instance's definition version (same read check as the page)."""
    overview = engine.instance_overview(ctx, instance_id, subject)
    return Response(overview.bpmn_xml, media_type="application/xml",
                    headers={"Cache-Control": "private, max-age=300"})
