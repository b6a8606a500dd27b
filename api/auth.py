"""The platform authenticator: session cookie + CSRF for the browser, HMAC signatures for external systems.

``create_app(ctx, authenticate=PlatformAuthenticator())`` (see api/app.py). Failures raise engine
errors that the middleware turns into 401/403 JSON with a reason code; each is audited.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import engine
from api.errors import error_response
from engine.errors import PermissionDenied

COOKIE = "hwf_session"
CSRF_HEADER = "x-csrf-token"
# The csrf_token part of a multipart form (page uploads); the token itself is URL-safe ASCII.
MULTIPART_CSRF = re.compile(rb'Content-Disposition: form-data; name="csrf_token"\r\n\r\n([A-Za-z0-9_\-.~]{1,200})\r\n',
                            re.IGNORECASE)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No session exists yet on these, so there is nothing to forge (SameSite=Lax covers the cookie).
PUBLIC_PATHS = frozenset({"/healthz"})
PUBLIC_PREFIXES = ("/static/",)
CSRF_EXEMPT = frozenset({"/api/auth/login", "/api/auth/sso"})
# What a session may do while a password change is pending.
PASSWORD_CHANGE_PATHS = frozenset({"/api/auth/password", "/api/auth/me", "/api/auth/logout"})


def client_ip(request: Request, trusted_proxies: str = "") -> str:
    """Peer address; ``X-Forwarded-For`` is believed only when the peer is a configured proxy."""
    peer = request.client.host if request.client else ""
    trusted = {p.strip() for p in trusted_proxies.split(",") if p.strip()}
    if peer in trusted:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if hop not in trusted:
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    break
    return peer


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    return raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


async def _sent_csrf(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        sent = (form.get("csrf_token") or [""])[0]
    elif not sent and request.headers.get("content-type", "").startswith("multipart/form-data"):
        found = MULTIPART_CSRF.search(await request.body())
        sent = found.group(1).decode("ascii", "replace") if found else ""
    return sent


class PlatformAuthenticator:
    """Callable stored in ``app.state.authenticate``; returns the Subject or None (anonymous)."""

    async def __call__(self, request: Request) -> engine.Subject | None:
        if request.url.path in PUBLIC_PATHS or request.url.path.startswith(PUBLIC_PREFIXES):
            return None  # health checks and static assets need no identity; skip the session lookup
        ctx = request.app.state.ctx
        ip = client_ip(request, ctx.settings.trusted_proxies)
        if "x-api-key" in request.headers or "x-signature" in request.headers:
            body = await request.body()
            return await run_in_threadpool(
                engine.authenticate_signed_request,
                ctx,
                request.method,
                _raw_path(request),
                body,
                dict(request.headers),
                client_ip=ip,
            )
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        # A session this process resolved a moment ago is answered from memory, without a thread hop or a
        # transaction (engine/identity/session_cache.py says when); anything else goes to the database.
        info = engine.cached_session(ctx, token) or await run_in_threadpool(engine.resolve_session, ctx, token)
        if info is None:
            request.state.auth_failure = "session_expired"
            return None
        request.state.session = info
        request.state.csrf_token = info.csrf_token
        path = request.url.path
        if request.method in UNSAFE_METHODS and path not in CSRF_EXEMPT:
            sent = await _sent_csrf(request)
            if not sent or not hmac.compare_digest(sent.encode(), info.csrf_token.encode()):
                await self._deny(
                    request, info.subject.username, "csrf_missing" if not sent else "csrf_invalid", ip
                )
        if info.must_change_password and path.startswith("/api/") and path not in PASSWORD_CHANGE_PATHS:
            await self._deny(request, info.subject.username, "password_change_required", ip)
        return info.subject

    @staticmethod
    async def _deny(request: Request, actor: str, reason: str, ip: str) -> None:
        await run_in_threadpool(
            engine.record_access_denied,
            request.app.state.ctx,
            actor,
            reason=reason,
            method=request.method,
            path=request.url.path,
            ip=ip,
        )
        exc = PermissionDenied("请求被拒绝 (request refused)", reason=reason)
        exc.audited = True
        raise exc


def install_denial_audit(app: FastAPI) -> None:
    """Audit every 403 the engine raises that was not audited where it was decided (safety net)."""

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied) -> JSONResponse:
        ctx = request.app.state.ctx
        if not exc.audited and ctx is not None:
            subject = getattr(request.state, "subject", None)
            await run_in_threadpool(
                engine.record_access_denied,
                ctx,
                subject.username if subject else "anonymous",
                reason=exc.code,
                method=request.method,
                path=request.url.path,
                ip=client_ip(request, ctx.settings.trusted_proxies),
            )
        return error_response(exc)
