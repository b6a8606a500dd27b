from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine import Subject

USERS = {
    "alice": Subject("alice", {"h1": frozenset({"staff"})}),
    "dr_wang": Subject("dr_wang", {"h1": frozenset({"dept_head"})}),
    "admin": Subject("admin", {"h1": frozenset({"process_admin"})}),
    "bob": Subject("bob", {"h2": frozenset({"staff"})}),
}


def header_authenticator(request):
    """Test-only identity: the real app authenticates sessions and signed requests."""
    return USERS.get(request.headers.get("x-test-user", ""))


@pytest.fixture
def client(ctx):
    with TestClient(create_app(ctx, authenticate=header_authenticator), raise_server_exceptions=False) as c:
        yield c


def as_user(name: str) -> dict[str, str]:
    return {"x-test-user": name}
