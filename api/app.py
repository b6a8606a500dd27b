"""The production app: engine opened from settings, with the platform's authenticator."""
from __future__ import annotations

from fastapi import FastAPI

from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import open_engine, start_inline_worker


def build_app() -> FastAPI:
    ctx = open_engine()
    app = create_app(ctx, authenticate=PlatformAuthenticator())
    if ctx.settings.inline_worker and not ctx.settings.redis_url:
        # Embedded default: due jobs run in a thread of this process (scale-out uses Celery instead).
        worker = start_inline_worker(ctx)
        app.router.add_event_handler("shutdown", worker.stop)
    return app
