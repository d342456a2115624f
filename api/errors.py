"""One JSON error shape for every failure; no traceback and no submitted text reach a client.

Every error body is ``{"error": {"code": …, "message": …, "details": […]}}``.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nlp.errors import CodebookError, InputError, ModelError

log = logging.getLogger("caselens.api")

_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    500: "internal_error",
    503: "analysis_unavailable",
}


class ApiError(StarletteHTTPException):
    """An error the service reports on purpose, with a code and structured details."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code or _CODES.get(status_code, "error")
        self.details = details or []


def error_response(
    status_code: int,
    message: str,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code or _CODES.get(status_code, "error"),
            "message": message,
            "details": details or [],
        }
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors without the ``input`` they echo (it may be a child's record)."""
    return [
        {"loc": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "error")
    return error_response(
        exc.status_code,
        message,
        code=getattr(exc, "code", None),
        details=getattr(exc, "details", None),
        headers=getattr(exc, "headers", None),
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "the request is not valid", details=_validation_details(exc))


async def _input_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    details = [{"where": exc.where}] if exc.where else []
    return error_response(422, exc.message, details=details)


async def _analysis_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # A missing or mismatched model or codebook: the service's fault, not the caller's.
    # Its message names files on the server, so it goes to the log, not the client.
    log.error("analysis unavailable: %s", exc)
    return error_response(503, "analysis is unavailable (model or codebook); see the server log")


class CatchAllMiddleware:
    """Turn any exception that escapes the app into a JSON 500.

    It logs the exception type and route only (messages can quote submitted
    text) and does not re-raise, so no traceback is printed with request data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an error response; the server closes the connection
                raise
            log.error("unexpected %s on %s %s", type(exc).__name__, scope["method"], scope["path"])
            response = error_response(500, "internal error; the request was not completed")
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(ModelError, _analysis_unavailable)
    app.add_exception_handler(CodebookError, _analysis_unavailable)
    app.add_middleware(CatchAllMiddleware)
