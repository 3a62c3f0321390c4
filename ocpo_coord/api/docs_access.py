"""/docs, /redoc and /openapi.json for holders of a valid token only (``api_docs = signed_in``).

The API's description names every route and field: useful to an attacker mapping the
service. In production it is off by default; ``signed_in`` serves it to API clients
that send a bearer token, as every other route requires.
"""

import json
from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ocpo_coord.api.middleware import route_path
from ocpo_coord.auth.tokens import verify_token
from ocpo_coord.config import Settings
from ocpo_coord.exceptions import Unauthenticated


class SignedInDocs:
    def __init__(self, app: ASGIApp, *, settings: Settings, paths: Iterable[str | None]) -> None:
        self.app = app
        self.settings = settings
        self.paths = frozenset(path for path in paths if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope) in self.paths:
            scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
            try:
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated("the API description is for signed-in users: send a bearer token")
                # A provider's keys may need fetching: never on the event loop.
                await run_in_threadpool(verify_token, self.settings, token.strip())
            except Unauthenticated as exc:
                body = json.dumps(
                    {"detail": {"code": exc.code, "message": exc.message, "field": None}}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
