"""The production app: engine opened from settings, with the platform's authenticator."""
from __future__ import annotations

from fastapi import FastAPI

from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import open_engine


def build_app() -> FastAPI:
    return create_app(open_engine(), authenticate=PlatformAuthenticator())
