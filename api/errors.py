"""The one place engine errors become HTTP responses: stable JSON shape, never a stack trace."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.errors import (
    AuthenticationFailed,
    Conflict,
    EngineError,
    InvalidDefinition,
    NotFound,
    PermissionDenied,
    RateLimited,
    ScriptError,
    ValidationFailed,
)

log = logging.getLogger("api.errors")

STATUS = {
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
    RateLimited: 429,
    InvalidDefinition: 422,
    ValidationFailed: 422,
    ScriptError: 500,
}


def status_for(exc: EngineError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_response(exc: EngineError) -> JSONResponse:
    """The one JSON shape of every engine error: error, code, message, detail and the error's fields."""
    body = exc.to_dict()
    body.setdefault("detail", exc.message)  # the designer (and FastAPI clients) read `detail`
    return JSONResponse(body, status_code=status_for(exc))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def _engine_error(_request: Request, exc: EngineError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"pointer": "/" + "/".join(str(p) for p in e["loc"][1:]), "message": e["msg"],
                   "validator": e["type"]} for e in exc.errors()]
        return JSONResponse({"error": "ValidationFailed", "code": "validation_failed",
                             "message": "请求格式错误 (invalid request)", "fields": fields}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"error": "InternalError", "code": "internal_error",
                             "message": "服务器内部错误 (internal error)"}, status_code=500)
