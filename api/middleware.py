"""Authentication and security headers as one pure ASGI middleware.

Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``) runs the rest of the app in a task of its
own and streams the response back through a memory channel: ≈ 0.3–0.5 ms of CPU on every request here
(py-spy on `bench/request_cpu.py`). This does the same work inline: authenticate, store the subject in
``request.state``, answer an authentication failure itself, and add the security headers to whatever
response goes out.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import status_for
from engine.errors import EngineError


class AuthenticateAndHarden:
    """Set ``request.state.subject`` from ``app.state.authenticate`` and harden every HTTP response.

    A refused credential, replayed nonce or CSRF failure (an ``EngineError`` from the authenticator)
    becomes its 401/403 JSON here, before routing. When the authenticator read the body (CSRF token of a
    form post, signature of a signed request), the app gets the same bytes again.
    """

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._hardened(send)
        request = Request(scope, receive)
        try:
            subject = scope["app"].state.authenticate(request)
            request.state.subject = await subject if inspect.isawaitable(subject) else subject
        except EngineError as exc:  # refused credentials, replayed nonce, CSRF: 401/403 with a reason
            await JSONResponse(exc.to_dict(), status_code=status_for(exc))(scope, receive, send)
            return
        body: bytes | None = getattr(request, "_body", None)  # set by Request.body() when the body was read
        await self.app(scope, receive if body is None else _replay(body, receive), send)

    def _hardened(self, send: Send) -> Send:
        async def hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                missing = [(k, v) for k, v in self.headers if k not in present]
                if missing:
                    message = {**message, "headers": [*message.get("headers", ()), *missing]}
            await send(message)

        return hardened


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the already-read body once, then defers to the server (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
