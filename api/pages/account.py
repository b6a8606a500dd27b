"""Sign-in pages: login (+ TOTP step), TOTP enrolment, forced password change, logout."""
from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.auth import COOKIE, clear_session_cookie, client_ip, set_session_cookie
from api.pages.common import PageCtx, PageSubject, redirect, render, safe_next
from engine.errors import AuthenticationFailed, Conflict, ValidationFailed

router = APIRouter(include_in_schema=False)
LOGIN_CODES = ("bad_credentials", "bad_captcha", "bad_totp", "locked", "account_expired", "inactive")


def _secure(ctx: engine.EngineContext) -> bool:
    return ctx.settings.environment != "development"


def _ip(request: Request, ctx: engine.EngineContext) -> str:
    return client_ip(request, ctx.settings.trusted_proxies)


def _minutes_left(until: Any) -> int:
    if isinstance(until, str):
        try:
            until = datetime.fromisoformat(until)
        except ValueError:
            return 0
    if not isinstance(until, datetime):
        return 0
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds() / 60))


def _refusal(exc: AuthenticationFailed) -> dict[str, Any]:
    code = exc.detail.get("reason") or getattr(exc, "code", "bad_credentials")
    code = code if code in LOGIN_CODES else "bad_credentials"
    return {"error_code": code, "captcha": bool(exc.detail.get("captcha_required")),
            "attempts_left": exc.detail.get("attempts_left"),
            "locked_minutes": _minutes_left(exc.detail.get("locked_until")) if code == "locked" else None}


def _login_page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    expired = request.query_params.get("expired") == "1" or \
        getattr(request.state, "auth_failure", "") == "session_expired"
    context.setdefault("identifier", "")
    sso_failed = request.query_params.get("sso") == "failed"
    return render(request, "login.html", status_code=status_code, badges={}, expired=expired, sso_failed=sso_failed,
                  next=safe_next(request.query_params.get("next") or context.pop("next", None)), **context)


def _after_login(ctx: engine.EngineContext, result: engine.LoginResult, target: str) -> Response:
    if result.status == "password_change_required":
        response = redirect(f"/password?next={target}")
    elif result.status == "totp_enrollment_required":
        response = redirect(f"/login/totp/enroll?next={target}")
    else:
        response = redirect(target)
    if result.session_token:
        set_session_cookie(response, result.session_token, secure=_secure(ctx))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    info = getattr(request.state, "session", None)
    if info is not None and not info.must_change_password:
        return redirect(safe_next(request.query_params.get("next")))
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, ctx: PageCtx) -> Response:
    form = await request.form()
    identifier = str(form.get("identifier") or "").strip()[:100]
    password = str(form.get("password") or "")[:200]
    code = str(form.get("totp_code") or "").strip()[:12] or None
    captcha = {"captcha_id": str(form.get("captcha_id") or "")[:36] or None,
               "captcha_answer": str(form.get("captcha_answer") or "")[:8]}
    target = safe_next(str(form.get("next") or ""))
    if not identifier or not password:
        return _login_page(request, 400, identifier=identifier, next=target, error_code="missing")
    try:
        result = engine.login(ctx, identifier, password, ip=_ip(request, ctx), totp_code=code, **captcha)
    except AuthenticationFailed as exc:
        refusal = _refusal(exc)
        fresh = engine.issue_captcha(ctx) if refusal["captcha"] or captcha["captcha_id"] else None
        if code and refusal["error_code"] in ("bad_totp", "bad_captcha"):
            return render(request, "login_totp.html", status_code=401, badges={}, identifier=identifier,
                          password=password, next=target, error_code=refusal["error_code"], captcha_id=fresh)
        return _login_page(request, 401, identifier=identifier, next=target, captcha_id=fresh, **refusal)
    if result.status == "totp_required":
        # No session exists before the second factor: the step re-sends the credentials with the code
        # (and, after failed attempts, a new captcha: the one just used is gone).
        fresh = engine.issue_captcha(ctx) if captcha["captcha_id"] else None
        return render(request, "login_totp.html", badges={}, identifier=identifier, password=password,
                      next=target, error_code=None, captcha_id=fresh)
    return _after_login(ctx, result, target)


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request, subject: PageSubject) -> HTMLResponse:
    """Second factor for a session opened without it (e.g. portal SSO)."""
    return render(request, "login_totp.html", badges={}, identifier=None, password=None,
                  next=safe_next(request.query_params.get("next")), error_code=None)


@router.post("/login/totp", response_class=HTMLResponse)
async def totp_verify(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    target = safe_next(str(form.get("next") or ""))
    try:
        engine.verify_session_totp(ctx, subject, str(form.get("totp_code") or "").strip()[:12],
                                   session_token=request.cookies.get(COOKIE, ""), ip=_ip(request, ctx))
    except AuthenticationFailed as exc:
        return render(request, "login_totp.html", status_code=401, badges={}, identifier=None, password=None,
                      next=target, error_code=_refusal(exc)["error_code"])
    return redirect(target)


@router.get("/login/totp/enroll", response_class=HTMLResponse)
def enroll_form(request: Request, subject: PageSubject) -> HTMLResponse:
    return render(request, "totp_enroll.html", badges={}, enrolment=None, error_code=None,
                  next=safe_next(request.query_params.get("next")))


@router.post("/login/totp/enroll", response_class=HTMLResponse)
async def enroll(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    target = safe_next(str(form.get("next") or ""))
    try:
        enrolment = engine.enroll_totp(ctx, subject)
    except Conflict:
        return render(request, "totp_enroll.html", status_code=409, badges={}, enrolment=None,
                      error_code="already_enrolled", next=target)
    return render(request, "totp_enroll.html", badges={}, enrolment=enrolment, error_code=None, next=target)


@router.post("/login/totp/confirm", response_class=HTMLResponse)
async def enroll_confirm(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    target = safe_next(str(form.get("next") or ""))
    try:
        engine.confirm_totp(ctx, subject, str(form.get("totp_code") or "").strip()[:12],
                            session_token=request.cookies.get(COOKIE))
    except (AuthenticationFailed, Conflict) as exc:
        code = "bad_totp" if isinstance(exc, AuthenticationFailed) else "not_pending"
        return render(request, "totp_enroll.html", status_code=400, badges={}, enrolment=None,
                      error_code=code, next=target)
    return redirect(target)


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, subject: PageSubject) -> HTMLResponse:
    info = getattr(request.state, "session", None)
    return render(request, "password.html", badges={}, forced=bool(info and info.must_change_password),
                  issues=[], next=safe_next(request.query_params.get("next")))


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    target = safe_next(str(form.get("next") or ""))
    info = getattr(request.state, "session", None)
    new = str(form.get("new_password") or "")[:200]
    issues: list[str] = []
    if new != str(form.get("confirm_password") or ""):
        issues = ["mismatch"]
    else:
        try:
            engine.change_password(ctx, subject, str(form.get("current_password") or "")[:200], new,
                                   session_token=request.cookies.get(COOKIE), ip=_ip(request, ctx))
        except ValidationFailed as exc:
            issues = [e.validator or "invalid" for e in exc.errors]
        except AuthenticationFailed:
            issues = ["bad_current"]
    if issues:
        return render(request, "password.html", status_code=422, badges={}, issues=issues, next=target,
                      forced=bool(info and info.must_change_password))
    return redirect(f"{target}{'&' if '?' in target else '?'}flash=password_changed")


@router.post("/logout")
def logout(request: Request, ctx: PageCtx) -> Response:
    engine.logout(ctx, request.cookies.get(COOKIE))
    response = redirect("/login?flash=logged_out")
    clear_session_cookie(response, secure=_secure(ctx))
    return response
