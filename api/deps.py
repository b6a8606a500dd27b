"""Annotated dependencies shared by routers."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

import engine
from engine import EngineContext, Subject
from engine.errors import AuthenticationFailed


# Both are `async def` although they do no I/O: FastAPI runs a plain `def` dependency in the thread pool,
# a hop per dependency per request (≈ 0.2 ms of CPU each, bench/request_cpu.py).
async def get_ctx(request: Request) -> EngineContext:
    return request.app.state.ctx


async def get_subject(request: Request) -> Subject:
    """The authenticated subject, set by the authentication middleware for this request."""
    subject = getattr(request.state, "subject", None)
    if subject is None:
        reason = getattr(request.state, "auth_failure", "not_authenticated")
        raise AuthenticationFailed("请先登录 (authentication required)", reason=reason)
    return subject


Ctx = Annotated[EngineContext, Depends(get_ctx)]
CurrentSubject = Annotated[Subject, Depends(get_subject)]


def allowed_somewhere(obj: str, act: str) -> Any:
    """A router dependency: the subject holds (obj, act) in at least one institution, else 403 (audited).

    As a router dependency it runs before the body is validated, so a refused user learns nothing
    from 422 field messages (only a body that is not JSON at all is refused with 422 first, by FastAPI).
    """
    def check(ctx: Ctx, subject: CurrentSubject) -> None:
        engine.require_allowed_somewhere(ctx, subject, obj, act)
    return Depends(check)
