"""Inbox: 待办 / 已办 / 我发起的 / 抄送我的 with filters, search, sorting and paging."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import engine
from api.i18n import LOCALES
from api.pages.common import (
    PageCtx,
    PageSubject,
    html_errors,
    parse_date,
    parse_int,
    redirect,
    remember_lang,
    render,
    safe_next,
)
from engine import InboxQuery

router = APIRouter(include_in_schema=False)
PAGE_SIZES = (20, 50, 100)
FILTER_KEYS = ("tab", "process", "institution", "urgency", "overdue", "from", "to", "q", "sort", "dir",
               "size")


def query_from(request: Request) -> InboxQuery:
    p = request.query_params
    size = parse_int(p.get("size"), 20)
    return InboxQuery(
        tab=p.get("tab", "todo"), process_key=p.get("process") or None,
        institution=p.get("institution") or None,
        urgency=parse_int(p.get("urgency")), overdue=p.get("overdue") == "1",
        received_from=parse_date(p.get("from")), received_to=parse_date(p.get("to")), search=p.get("q", ""),
        sort=p.get("sort", "received"), descending=p.get("dir", "desc") != "asc",
        page=parse_int(p.get("page"), 1) or 1, page_size=size if size in PAGE_SIZES else 20,
    )


def link(request: Request, **changes: object) -> str:
    """The current inbox URL with some parameters changed (page resets unless given)."""
    params = {k: v for k, v in request.query_params.items() if k in FILTER_KEYS and v}
    params.update({k: str(v) for k, v in changes.items() if v not in (None, "")})
    for k, v in changes.items():
        if v in (None, ""):
            params.pop(k, None)
    return "/inbox?" + urlencode(params)


@router.get("/", response_class=HTMLResponse)
def home() -> RedirectResponse:
    return redirect("/inbox")


@router.get("/inbox", response_class=HTMLResponse)
@html_errors
def inbox(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    query = query_from(request)
    page = engine.inbox_page(ctx, subject, query)
    return render(request, "inbox.html", badges=page.counts, nav_active=page.query.tab, page=page,
                  q=page.query, facets=page.facets, link=lambda **c: link(request, **c),
                  page_sizes=PAGE_SIZES)


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None) -> RedirectResponse:  # noqa: A002 - query name
    response = redirect(safe_next(next))
    if code in LOCALES:
        remember_lang(response, code)
    return response
