"""Login, logout, password change, TOTP and portal SSO for the browser (session cookie ``hwf_session``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

import engine
from api.auth import COOKIE, clear_session_cookie, client_ip, set_session_cookie
from api.captcha_image import render_captcha
from api.deps import Ctx, CurrentSubject
from api.schemas.identity import CaptchaOut, CodeIn, LoginIn, LoginOut, MeOut, PasswordIn, SsoIn, TotpEnrollOut
from engine.errors import AuthenticationFailed

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _secure(ctx: engine.EngineContext) -> bool:
    return ctx.settings.environment != "development"


def _answer(ctx: engine.EngineContext, result: engine.LoginResult, response: Response) -> LoginOut:
    if result.session_token:
        set_session_cookie(response, result.session_token, secure=_secure(ctx))
    return LoginOut(
        status=result.status,
        username=result.username,
        csrf_token=result.csrf_token,
        expires_at=result.expires_at,
        password_expiry_warning_days=result.password_expiry_warning_days,
        account_expiry_warning_days=result.account_expiry_warning_days,
    )


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, ctx: Ctx) -> LoginOut:
    result = engine.login(
        ctx,
        body.identifier,
        body.password,
        ip=client_ip(request, ctx.settings.trusted_proxies),
        totp_code=body.totp_code,
        captcha_id=body.captcha_id,
        captcha_answer=body.captcha_answer,
    )
    return _answer(ctx, result, response)


@router.post("/captcha", response_model=CaptchaOut, status_code=201)
def new_captcha(ctx: Ctx) -> CaptchaOut:
    """A captcha challenge for the next login after a refusal with ``captcha_required``."""
    captcha_id = engine.issue_captcha(ctx)
    return CaptchaOut(captcha_id=captcha_id, image_url=f"/api/auth/captcha/{captcha_id}.png")


@router.get("/captcha/{captcha_id}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, 404: {"description": "unknown or expired"}})
def captcha_image(captcha_id: str, ctx: Ctx) -> Response:
    """The challenge drawn as a distorted image (the text itself is never sent)."""
    text = engine.captcha_text(ctx, captcha_id[:36])
    if text is None:
        return Response(status_code=404)
    return Response(render_captcha(text), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/sso", response_model=LoginOut)
def sso(body: SsoIn, request: Request, response: Response, ctx: Ctx) -> LoginOut:
    result = engine.sso_login(ctx, body.token, ip=client_ip(request, ctx.settings.trusted_proxies))
    return _answer(ctx, result, response)


def _same_site(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else "/"


@router.get("/sso", response_class=RedirectResponse, status_code=303)
def sso_link(
    request: Request, ctx: Ctx, token: str = Query(max_length=2048), next: str = Query("/", max_length=300)
) -> RedirectResponse:
    """Portal link form: ``/api/auth/sso?token=…&next=/inbox``; only same-site paths are followed."""
    try:
        result = engine.sso_login(ctx, token, ip=client_ip(request, ctx.settings.trusted_proxies))
    except AuthenticationFailed:  # audited by sso_login; a person clicked this link, so show the login page
        return RedirectResponse(f"/login?{urlencode({'sso': 'failed', 'next': _same_site(next)})}", status_code=303)
    redirect = RedirectResponse(_same_site(next), status_code=303)
    if result.session_token:
        set_session_cookie(redirect, result.session_token, secure=_secure(ctx))
    return redirect


@router.get("/sso/open", response_class=RedirectResponse, status_code=303)
def sso_open(request: Request, ctx: Ctx, next: str = Query("/", max_length=300)) -> RedirectResponse:
    """A portal deep link (``/api/auth/sso/open?next=/tasks/<id>``).

    Signed in already: straight to ``next``. Otherwise, when the portal's auth centre is configured, there
    with ``service`` = our ``/api/auth/sso?next=…`` callback; the centre signs the user in (or sees its own
    session) and returns to ``service&token=<hand-off token>``. Without a centre: the login page.
    """
    target = _same_site(next)
    if getattr(request.state, "subject", None) is not None:
        return RedirectResponse(target, status_code=303)
    centre = ctx.settings.sso_login_url
    if not (centre and ctx.settings.sso_secret):
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    service = f"{request.url_for('sso_link')}?{urlencode({'next': target})}"
    return RedirectResponse(f"{centre}{'&' if '?' in centre else '?'}{urlencode({'service': service})}",
                            status_code=303)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, ctx: Ctx) -> None:
    engine.logout(ctx, request.cookies.get(COOKIE))
    clear_session_cookie(response, secure=_secure(ctx))


@router.get("/me", response_model=MeOut)
def me(request: Request, subject: CurrentSubject) -> MeOut:
    info = getattr(request.state, "session", None)
    roles = {k: sorted(v) for k, v in subject.roles.items()}
    if info is None:  # signed API client
        return MeOut(username=subject.username, display_name=subject.display_name, roles=roles)
    return MeOut(
        username=subject.username,
        display_name=subject.display_name,
        roles=roles,
        must_change_password=info.must_change_password,
        totp_verified=info.totp_verified,
        totp_enrolled=info.totp_enrolled,
        csrf_token=info.csrf_token,
        expires_at=info.expires_at,
        idle_expires_at=info.idle_expires_at,
    )


@router.post("/password", status_code=204)
def change_password(body: PasswordIn, request: Request, ctx: Ctx, subject: CurrentSubject) -> None:
    engine.change_password(
        ctx,
        subject,
        body.current_password,
        body.new_password,
        session_token=request.cookies.get(COOKIE),
        ip=client_ip(request, ctx.settings.trusted_proxies),
    )


@router.post("/totp/enroll", response_model=TotpEnrollOut)
def totp_enroll(ctx: Ctx, subject: CurrentSubject) -> TotpEnrollOut:
    enrolment = engine.enroll_totp(ctx, subject)
    return TotpEnrollOut(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)


@router.post("/totp/confirm", status_code=204)
def totp_confirm(body: CodeIn, request: Request, ctx: Ctx, subject: CurrentSubject) -> None:
    engine.confirm_totp(ctx, subject, body.code, session_token=request.cookies.get(COOKIE))


@router.post("/totp/verify", status_code=204)
def totp_verify(body: CodeIn, request: Request, ctx: Ctx, subject: CurrentSubject) -> None:
    engine.verify_session_totp(
        ctx,
        subject,
        body.code,
        session_token=request.cookies.get(COOKIE, ""),
        ip=client_ip(request, ctx.settings.trusted_proxies),
    )
