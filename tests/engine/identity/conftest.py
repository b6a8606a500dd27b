"""Identity fixtures: the demo district loaded into the per-test database, a light argon2 hasher."""

from __future__ import annotations

import dataclasses

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

import engine
from engine import EngineContext, Subject
from engine.models import AuditRecord

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "Demo@2026hosp"


def prepare(ctx: EngineContext, **settings: object) -> EngineContext:
    ctx.settings = ctx.settings.model_copy(update={"policy_reload_seconds": 0.0, **settings})
    ctx.extras.clear()
    ctx.extras["password_hasher"] = FAST_HASHER
    return ctx


@pytest.fixture
def ictx(ctx: EngineContext) -> EngineContext:
    prepare(ctx)
    engine.load_demo_identity(ctx)
    return ctx


def login_as(ctx: EngineContext, who: str = "zhangwei", password: str = PASSWORD, **kw: object):  # noqa: ANN201
    """`engine.login` from the tests' usual client address."""
    return engine.login(ctx, who, password, ip="10.0.0.1", **kw)


def subject_of(ctx: EngineContext, username: str, password: str = PASSWORD) -> Subject:
    result = engine.login(ctx, username, password, ip="10.0.0.1")
    info = engine.resolve_session(ctx, result.session_token)
    assert info is not None, result
    return info.subject


def audit_actions(ctx: EngineContext, actor: str | None = None) -> list[str]:
    with ctx.db.unit_of_work() as session:
        query = select(AuditRecord).order_by(AuditRecord.seq)
        if actor:
            query = query.where(AuditRecord.actor == actor)
        return [r.action for r in session.scalars(query).all()]


def with_settings(ctx: EngineContext, **settings: object) -> EngineContext:
    """Same database and clock, other settings (e.g. environment='production')."""
    clone = dataclasses.replace(ctx, extras={})
    clone.settings = ctx.settings.model_copy(update=settings)
    clone.extras["password_hasher"] = FAST_HASHER
    return clone


def solve_captcha(ctx: EngineContext) -> dict[str, str]:
    """A fresh captcha challenge and its answer, as a person reading the image would type it."""
    from engine.models import LoginCaptcha

    captcha_id = engine.issue_captcha(ctx)
    with ctx.db.unit_of_work() as session:
        return {"captcha_id": captcha_id, "captcha_answer": session.get(LoginCaptcha, captcha_id).answer.lower()}
