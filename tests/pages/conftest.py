"""Page tests: the app on a rolled-back test database with the shipped processes and forms deployed."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import EngineContext, Settings, Subject, deploy, deploy_directory
from engine.config import PROJECT_ROOT
from tests.conftest import read_bundle

USERS = {
    "nurse_li": Subject("nurse_li", {"h1": frozenset({"nurse", "staff"})}, "李护士"),
    "dr_wang": Subject("dr_wang", {"h1": frozenset({"dept_head", "doctor"})}, "王主任"),
    "med_zhao": Subject("med_zhao", {"h1": frozenset({"medical_affairs"})}, "赵医务"),
    "alice": Subject("alice", {"h1": frozenset({"staff"})}),
    "outsider": Subject("outsider", {"h9": frozenset({"staff"})}),
}


class HeaderAuthenticator:
    """Test-only identity: `x-test-user` header or `test_user` cookie names a user of USERS."""

    def __init__(self, users: dict[str, Subject]) -> None:
        self.users = users

    def __call__(self, request) -> Subject | None:  # noqa: ANN001 - starlette Request
        name = request.headers.get("x-test-user") or request.cookies.get("test_user", "")
        subject = self.users.get(name)
        if subject is not None:
            request.state.csrf_token = f"csrf-{name}"
        return subject


@pytest.fixture
def real_ctx(ctx) -> EngineContext:
    settings = Settings(database_url=ctx.settings.database_url, forms_dir=PROJECT_ROOT / "forms")
    real = EngineContext(settings=settings, db=ctx.db, runtime=ctx.runtime, clock=ctx.clock, extras=dict(ctx.extras))
    deploy_directory(real, PROJECT_ROOT / "processes" / "approvals", actor="admin")
    return real


@pytest.fixture
def client(real_ctx):
    with TestClient(create_app(real_ctx, authenticate=HeaderAuthenticator(USERS)),
                    raise_server_exceptions=True, follow_redirects=False) as c:
        yield c


@pytest.fixture
def approval(real_ctx):
    """The engine test process (first step is the applicant's own form)."""
    settings = Settings(database_url=real_ctx.settings.database_url,
                        forms_dir=PROJECT_ROOT / "tests" / "engine" / "data" / "forms")
    deploy(EngineContext(settings=settings, db=real_ctx.db, runtime=real_ctx.runtime, clock=real_ctx.clock),
           read_bundle("approval.bpmn"), actor="admin")


def as_user(name: str) -> dict[str, str]:
    return {"x-test-user": name}


LEAVE = {"applicant_name": "李护士", "employee_no": "N001", "department": "内科", "staff_type": "nurse",
         "leave_type": "annual", "start_date": "2026-02-01", "end_date": "2026-02-02", "days": "2",
         "reason": "休假", "_institution": "h1"}


@pytest.fixture
def demo_ctx(real_ctx):
    """The demo district's users (password Demo@2026hosp) on the page-test database."""
    from tests.engine.identity.conftest import prepare

    prepare(real_ctx)
    engine.load_demo_identity(real_ctx)
    return real_ctx


@pytest.fixture
def web(demo_ctx):
    """A browser-like client with the real PlatformAuthenticator (cookie session + CSRF)."""
    app = create_app(demo_ctx, authenticate=PlatformAuthenticator())
    with TestClient(app, follow_redirects=False, client=("10.8.1.3", 50000)) as c:
        yield c
