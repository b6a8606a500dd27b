"""Shared page plumbing: who is asking, in which language, the layout context, HTML error pages."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import engine
from api.errors import status_for
from api.i18n import COOKIE, negotiate, translate
from api.templating import templates
from engine import EngineContext, Subject
from engine.errors import EngineError

F = TypeVar("F", bound=Callable[..., Any])
FLASHES = {"completed": "success", "started": "success", "saved": "success", "password_changed": "success",
           "logged_out": "info", "done": "success", "marked_read": "success"}
FLASHES.update({f"op_{name}": "success" for name in (
    "claim", "unclaim", "send_back", "transfer", "delegate", "add_signer", "remove_signer", "withdraw", "urge", "cc",
    "comment", "attach")})
FLASHES.update({f"admin_{name}": "success" for name in (
    "user_created", "institution_saved", "department_saved", "client_saved")})
# Pages a session with a pending password change may still open.
PASSWORD_CHANGE_PAGES = frozenset({"/password", "/logout"})


async def page_subject(request: Request) -> Subject:  # async: no I/O, so no thread-pool hop (api/deps.py)
    """The signed-in subject; anonymous visitors are sent to the login page (303 + Location)."""
    subject = getattr(request.state, "subject", None)
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
    if subject is None:
        expired = "expired=1&" if getattr(request.state, "auth_failure", "") == "session_expired" else ""
        raise HTTPException(status_code=303, headers={"Location": f"/login?{expired}next={target}"})
    info = getattr(request.state, "session", None)
    if info is not None and info.must_change_password and request.url.path not in PASSWORD_CHANGE_PAGES:
        raise HTTPException(status_code=303, headers={"Location": f"/password?next={target}"})
    return subject


async def page_ctx(request: Request) -> EngineContext:
    return request.app.state.ctx


PageSubject = Annotated[Subject, Depends(page_subject)]
PageCtx = Annotated[EngineContext, Depends(page_ctx)]


def lang_of(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.cookies.get(COOKIE),
                     request.headers.get("accept-language"))


def t(request: Request, key: str, **params: Any) -> str:
    return translate(lang_of(request), key, **params)


def safe_next(value: str | None, default: str = "/inbox") -> str:
    """Only same-site relative paths (no scheme, no //host) may be redirect targets."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def render(request: Request, template: str, *, status_code: int = 200, badges: dict[str, int] | None = None,
           **context: Any) -> HTMLResponse:
    """Render a page inside layout.html with language, subject, CSRF token and navigation badges."""
    lang = lang_of(request)
    subject = getattr(request.state, "subject", None)
    if badges is None and subject is not None:
        badges = engine.inbox_counts(request.app.state.ctx, subject)
    flash_key = request.query_params.get("flash")
    flash = {"kind": FLASHES[flash_key], "message": translate(lang, f"flash.{flash_key}")} \
        if flash_key in FLASHES else None
    response = templates.TemplateResponse(request, template, {
        "lang": lang, "subject": subject, "csrf_token": getattr(request.state, "csrf_token", "") or "",
        "badges": badges or {}, "current_path": str(request.url.path) + (
            f"?{request.url.query}" if request.url.query else ""),
        "flash": flash, "nav_active": context.pop("nav_active", ""), **context,
    }, status_code=status_code)
    if request.query_params.get("lang") and negotiate(request.query_params["lang"], None, None) == lang:
        remember_lang(response, lang)
    return response


def remember_lang(response: Response, lang: str) -> None:
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")


def error_page(request: Request, exc: EngineError) -> HTMLResponse:
    status = status_for(exc)
    return render(request, "error.html", status_code=status, status=status, message=exc.message,
                  badges={} if status == 401 else None)


def html_errors(handler: F) -> F:
    """Engine errors on a page become an HTML error page with the same status as the JSON API gives."""

    def _request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request:
        return kwargs.get("request") or next(a for a in args if isinstance(a, Request))

    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except EngineError as exc:
                return error_page(_request(args, kwargs), exc)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except EngineError as exc:
            return error_page(_request(args, kwargs), exc)

    return wrapper  # type: ignore[return-value]


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def form_text(form: Any, name: str, limit: int = 1000) -> str:
    """One posted text field, stripped and cut to `limit` characters ("" when absent)."""
    return str(form.get(name) or "").strip()[:limit]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
