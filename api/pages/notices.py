"""Notification centre: the user's notifications, newest first; mark one or all read."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.common import PageCtx, PageSubject, html_errors, parse_int, redirect, render

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/notifications", response_class=HTMLResponse)
@html_errors
def notifications(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    unread_only = request.query_params.get("unread") == "1"
    page = max(1, parse_int(request.query_params.get("page"), 1) or 1)
    rows = engine.list_notifications(ctx, subject, unread_only=unread_only, limit=PAGE + 1,
                                     offset=(page - 1) * PAGE)
    return render(request, "notifications.html", nav_active="notifications", items=rows[:PAGE],
                  has_more=len(rows) > PAGE, page=page, unread_only=unread_only,
                  unread=engine.unread_count(ctx, subject))


@router.post("/notifications/read")
@html_errors
async def mark_read(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    ids = [str(v)[:64] for v in form.getlist("id")][:500]
    engine.mark_read(ctx, subject, ids if ids else None)
    return redirect("/notifications?flash=marked_read")
