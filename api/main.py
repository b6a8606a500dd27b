"""FastAPI application factory."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute

from api.errors import install_error_handlers
from api.routes import definitions, designer, instances, tasks
from engine import EngineContext, Subject, open_engine

Authenticator = Callable[[Request], Subject | None]

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

    @app.middleware("http")
    async def authenticate_and_harden(request: Request, call_next: Callable) -> Response:
        request.state.subject = request.app.state.authenticate(request)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_error_handlers(app)
    for module in (definitions, instances, tasks):
        app.include_router(module.router)
    app.include_router(designer.router)
    app.include_router(designer.pages)
    return app
