"""The REST error shape: ``{"detail": {"code", "message", "field"}}`` for every 4xx."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ocpo_coord.exceptions import OcpoError, Unauthenticated


def _body(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"detail": {"code": code, "message": message, "field": field}}


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OcpoError)
    request.state.rollback = True
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return JSONResponse(_body(exc.code, exc.message, exc.field), status_code=exc.status_code, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    # Drop the "body"/"query" prefix: the field path is what the caller wrote.
    location = [str(part) for part in first.get("loc", ())[1:]]
    field = ".".join(location) or None
    message = f"{field}: {first.get('msg')}" if field else str(first.get("msg"))
    body = _body("INVALID_INPUT", message, field)
    body["detail"]["errors"] = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg")} for e in errors
    ]
    return JSONResponse(body, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(OcpoError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
