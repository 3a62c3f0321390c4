"""Pure-ASGI middleware for every response: request id, access log, security headers.

``ocpo_coord.app`` puts them outside FastAPI's own stack, so the last-resort 500, a 404,
a 422 and a CORS preflight carry the same headers and request id as a success.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocpo_coord.logging_setup import bind_request, current_request, unbind_request

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MAX_LOGGED_PATH = 1024

access_log = logging.getLogger("ocpo_coord.access")
error_log = logging.getLogger("ocpo_coord.error")


def accept_request_id(offered: str | None) -> str:
    """The caller's X-Request-ID when it is sane (1-64 of ``A-Za-z0-9._-``), else a fresh one.

    Whole-string match: ``$`` would let a trailing newline through into logs and headers.
    """
    if offered is not None and _REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def route_path(scope: Scope) -> str:
    """The path the routes see: without the root path the server was told it is mounted at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


class RequestContextMiddleware:
    """Gives each request an id (header, ``request.state``, log context) and writes its access line.

    The access line has the path but never the query string, which can hold search text
    about cases. An error that escapes everything else is logged here with the request id;
    once its 500 has been sent it is not raised further, so it is not logged twice.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request(request_id)
        started = time.perf_counter()
        status = 500  # what the server answers if the application never starts a response
        completed = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error")
            if not completed:
                raise
        finally:
            self._log_access(scope, status, started)
            unbind_request(token)

    @staticmethod
    def _log_access(scope: Scope, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        method: str = scope["method"]
        path: str = scope["path"]
        if len(path) > _MAX_LOGGED_PATH:
            path = path[:_MAX_LOGGED_PATH] + "..."
        context = current_request()
        login = context.login if context is not None else None
        fields: dict[str, object] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
        }
        if login is not None:
            fields["user"] = login
        by = f" by {login}" if login else ""
        access_log.info("%s %s %d %.1fms%s", method, path, status, duration_ms, by, extra=fields)


# --- security headers ---------------------------------------------------------------

# What API responses may do in a browser: nothing. No scripts, no framing.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    """Security headers on every HTTP response; a page's own CSP only on its HTML.

    ``pages`` gives, for the root path the server was mounted at, the CSP of each HTML
    page by route path. Every
    other response, and a non-HTML response on those paths, gets the strict API policy.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool, pages: Callable[[str], Mapping[str, str]]) -> None:
        self.app = app
        self.pages = pages
        self.fixed: list[tuple[str, str]] = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if hsts:
            self.fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        # Data must not sit in a shared (or browser) cache.
        no_store = path.startswith(("/api/", "/graphql/")) or path == "/graphql"
        page_policy = self.pages(scope.get("root_path", "")).get(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed:
                    headers[name] = value
                is_html = headers.get("content-type", "").startswith("text/html")
                # An HTML page a route renders itself (the case file) brings its own policy.
                own = headers.get("content-security-policy") if is_html else None
                headers["Content-Security-Policy"] = (
                    page_policy if page_policy and is_html else own or API_CSP
                )
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


# A NUL character is never meaningful in this service's text, and PostgreSQL refuses it
# in text columns: turn it away at the door, on every path, with the usual envelope.
_NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
_MAX_BODY = 4 * 1024 * 1024
# An evidence file's bytes are the one body that is not text: NUL bytes are part of
# them, and they are streamed to the file store (which has its own limit), not held here.
_FILE_UPLOAD = re.compile(r"/api/v1/evidence/[^/]+/file")


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RejectNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if any(marker in target.lower() for marker in _NUL_MARKERS):
            await _refuse(send, 422, "INVALID_INPUT", "the request may not contain NUL characters")
            return
        # Only bodies that a route may read are looked at: another method's answer is the
        # router's (405 naming the allowed methods), whatever it carries. A file's bytes
        # are the file's, NUL or not.
        if _FILE_UPLOAD.fullmatch(scope["path"]) or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > _MAX_BODY:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", "the request body is larger than 4 MiB")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if any(marker in body.lower() for marker in _NUL_MARKERS[:2]):
            await _refuse(send, 422, "INVALID_INPUT", "the request may not contain NUL characters")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps({"detail": {"code": code, "message": message, "field": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
