"""FastAPI application factory."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from api.auth import install_denial_audit
from api.errors import install_error_handlers
from api.middleware import AuthenticateAndHarden
from api.pages import router as pages_router
from api.routes import (
    admin,
    audit,
    auth,
    definitions,
    designer,
    incidents,
    instances,
    messages,
    notifications,
    operations,
    tasks,
    v1,
    webhooks,
)
from engine import EngineContext, Subject, open_engine

Authenticator = Callable[[Request], Subject | None | Awaitable[Subject | None]]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
}


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _no_one(_request: Request) -> Subject | None:
    return None


def create_app(ctx: EngineContext | None = None, authenticate: Authenticator | None = None) -> FastAPI:
    """Build the app around an engine context (opened from settings when not given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "ctx", None) is None:
            app.state.ctx = open_engine()
        yield

    app = FastAPI(title="医院流程平台 Hospital Workflow API", version="1.0.0", lifespan=lifespan,
                  generate_unique_id_function=_operation_id)
    app.state.ctx = ctx
    app.state.authenticate = authenticate or _no_one

    app.add_middleware(AuthenticateAndHarden, headers=SECURITY_HEADERS)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:  # async: no thread-pool hop for a constant answer
        return {"status": "ok"}

    install_error_handlers(app)
    install_denial_audit(app)
    for module in (definitions, instances, tasks, messages, incidents, webhooks, auth, admin, audit):
        app.include_router(module.router)
    app.include_router(operations.router)
    app.include_router(notifications.router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(designer.router)
    app.include_router(designer.pages)
    app.include_router(v1.router); app.include_router(v1.admin)  # noqa: E702 - external API v1 + announcements
    return app
