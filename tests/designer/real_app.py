"""uvicorn factory for the browser test: the real platform app on SQLite with a header-based TEST identity."""

from __future__ import annotations

from fastapi import FastAPI, Request

from api.main import create_app
from engine import Settings, Subject, migrate_database, open_engine

USERS = {
    "admin": Subject("admin", {"h1": frozenset({"process_admin"})}),
    "alice": Subject("alice", {"h1": frozenset({"staff"})}),
    "dr_wang": Subject("dr_wang", {"h1": frozenset({"dept_head"})}),
}


def _test_identity(request: Request) -> Subject | None:
    """TEST ONLY: trusts the x-test-user header. The real app authenticates sessions."""
    return USERS.get(request.headers.get("x-test-user", ""))


def build() -> FastAPI:
    ctx = open_engine(Settings())  # HWF_DATABASE_URL / HWF_VAR_DIR come from the test's environment
    migrate_database(ctx)
    return create_app(ctx, authenticate=_test_identity)
