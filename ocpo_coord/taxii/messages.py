"""TAXII 2.1 content negotiation and error messages, for every path under /taxii2.

An ASGI middleware, outside the exception handlers: a refusal is first handled as on
every other route (the transaction rolled back, a refused access audited), then its body
becomes a TAXII error message (section 3.6.1) in TAXII's media type. A request whose
Accept has no TAXII 2.1, or whose body is of another type, is refused before it reaches
any route (406, 415).
"""

import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocpo_coord.api.middleware import route_path
from ocpo_coord.taxii.schemas import TAXII_MEDIA_TYPE, TaxiiError

PREFIX = "/taxii2"
# Query parameters whose bad values are the request's fault (400), not the content's (422).
_QUERY_FIELDS = {"added_after", "limit", "next", "match[version]", "match[id]", "match[type]"}
_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def error_body(status: int, description: str) -> bytes:
    error = TaxiiError(title=_TITLES.get(status, "Error"), description=description, http_status=str(status))
    return error.model_dump_json(exclude_none=True).encode()


def _is_taxii(media_range: str, *, wildcards: bool) -> bool:
    kind, *parameters = (part.strip().lower() for part in media_range.split(";"))
    if wildcards and kind in ("*/*", "application/*"):
        return True
    if kind != "application/taxii+json":
        return False
    versions = [p.split("=", 1)[1].strip() for p in parameters if p.startswith("version=")]
    return not versions or versions == ["2.1"]


def negotiation_error(method: str, headers: Headers) -> tuple[int, str] | None:
    """406 for an Accept without TAXII 2.1, 415 for a body of another media type."""
    accept = headers.get("accept", "*/*")
    if not any(_is_taxii(item, wildcards=True) for item in accept.split(",")):
        return 406, f"this server answers {TAXII_MEDIA_TYPE}; Accept was {accept!r}"
    if method == "POST" and not _is_taxii(headers.get("content-type", ""), wildcards=False):
        content_type = headers.get("content-type", "")
        return 415, f"send the envelope as {TAXII_MEDIA_TYPE}; Content-Type was {content_type!r}"
    return None


def _description(status: int, body: bytes) -> tuple[int, str]:
    """The service's error envelope ({"detail": {code, message, field}}) as TAXII words it."""
    try:
        detail: Any = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return status, body.decode("utf-8", "replace")[:500]
    if not isinstance(detail, dict):
        return status, str(detail)
    field, message = detail.get("field"), str(detail.get("message", ""))
    if status == 422 and field in _QUERY_FIELDS:
        status = 400
    if field and not message.startswith(f"{field}:"):
        message = f"{field}: {message}"
    return status, message


class TaxiiMessages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (route_path(scope) + "/").startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        refusal = negotiation_error(scope["method"], Headers(scope=scope))
        if refusal is not None:
            await _send(send, refusal[0], error_body(*refusal), [])
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, description = _description(start["status"], b"".join(chunks))
            kept = [
                (k, v)
                for k, v in start.get("headers", [])
                if k.lower() not in (b"content-type", b"content-length")
            ]
            await _send(send, status, error_body(status, description), kept)

        await self.app(scope, receive, rewrite)


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    outgoing = MutableHeaders(raw=list(headers))
    outgoing["content-type"] = TAXII_MEDIA_TYPE
    outgoing["content-length"] = str(len(body))
    await send({"type": "http.response.start", "status": status, "headers": outgoing.raw})
    await send({"type": "http.response.body", "body": body})
