"""The REST error shape: ``{"detail": {"code", "message", "field"}}`` for every 4xx."""

import sqlite3
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ocpo_coord.api.unavailable import database_error
from ocpo_coord.audit.service import record_refusal
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Forbidden, NotFound, OcpoError, Unauthenticated, Unavailable


async def _audit_refusal(request: Request, actor: Actor, exc: OcpoError) -> None:
    """A refused access is audited in its own transaction: the request's was rolled back."""
    record_id = next(
        (_as_uuid(v) for k, v in request.path_params.items() if k.endswith("_id") and _as_uuid(v)),
        None,
    )
    async with request.app.state.sessionmaker() as session:
        await record_refusal(
            session,
            actor=actor,
            record_id=record_id,
            detail=f"{request.method} {request.url.path}: {exc.message}",
        )
        await session.commit()


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _body(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"detail": {"code": code, "message": message, "field": field}}


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OcpoError)
    request.state.rollback = True
    actor = getattr(request.state, "actor", None)
    if isinstance(exc, NotFound | Forbidden) and isinstance(actor, Actor):
        await _audit_refusal(request, actor, exc)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(_body(exc.code, exc.message, exc.field), status_code=exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    # Drop the "body"/"query" prefix: the field path is what the caller wrote.
    location = [str(part) for part in first.get("loc", ())[1:]]
    # For a body that is not JSON, the location is a character offset, not a field.
    field = None if first.get("type") == "json_invalid" else ".".join(location) or None
    message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    body = _body("INVALID_INPUT", message, field)
    body["detail"]["errors"] = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")} for e in errors
    ]
    return JSONResponse(body, status_code=422)


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (unknown path or method, unreadable body) in the same envelope."""
    assert isinstance(exc, StarletteHTTPException)
    request.state.rollback = True
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return JSONResponse(_body(code, str(exc.detail), None), status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (RFC 9110 section 15.5.6). Starlette names
    only those of the first route that matched the path, and a path's GET and POST are
    routes of their own: each method is matched against every route, as it would be routed."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorBody(BaseModel):
    """Every 4xx answer of the REST API."""

    detail: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    # The media type is named so that routes answering HTML (reports, case files) still
    # document their errors as the JSON envelope they are.
    status: {"model": ErrorBody, "description": description, "content": {"application/json": {}}}
    for status, description in (
        (400, "The body is not JSON, or not UTF-8."),
        (401, "No token, or a token that is invalid or expired."),
        (403, "You may read this, but not do this to it."),
        (404, "Missing, or not yours to read: the two look the same."),
        (409, "A conflicting change or a duplicate."),
        (412, "If-Match does not name the current version."),
        (413, "The body is larger than the service takes."),
        (422, "The input is invalid; `field` names the culprit."),
        (500, "The service failed; the body names the request id to quote, never the cause."),
        (
            503,
            "The database is unavailable or busy, or the identity provider cannot be reached with no "
            "current keys cached: retry after the seconds `Retry-After` names.",
        ),
    )
}


def internal_error_message(request_id: str) -> str:
    """What a caller is told of an unexpected failure, over REST and GraphQL alike."""
    return f"the service failed to answer; quote request id {request_id}"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Any other failure: the same envelope, a request id to quote, nothing of the cause.

    Starlette's outermost error middleware calls this after our own middleware has been
    unwound, so the request id and the basic headers are set here again. The exception
    itself is logged (with its traceback) by the server, never sent to the caller.
    """
    request_id = str(request.scope.get("state", {}).get("request_id", ""))
    body = _body("INTERNAL_ERROR", internal_error_message(request_id), None)
    return JSONResponse(
        body,
        status_code=500,
        headers={
            "X-Request-ID": request_id,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _is_sqlite_busy(exc: OperationalError) -> bool:
    if not isinstance(exc.orig, sqlite3.OperationalError):
        return False
    name = getattr(exc.orig, "sqlite_errorname", "")
    return bool(name.startswith("SQLITE_BUSY") or "database is locked" in str(exc.orig))


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """SQLite's write lock not granted within ``sqlite_wait_seconds``: the request waited
    its turn as long as the installation allows. The caller may retry; nothing of it
    was kept. Any other database failure is an outage or a fault (``database_error``)."""
    if not (isinstance(exc, OperationalError) and _is_sqlite_busy(exc)):
        return await database_error(request, exc)
    request.state.rollback = True
    body = _body("BUSY", "the database is busy with other requests; retry in a moment", None)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, database_error)
    app.add_exception_handler(OcpoError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
