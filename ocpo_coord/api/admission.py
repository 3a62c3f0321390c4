"""A bounded number of requests in flight per process; the rest are refused at once.

Past what the database pool and the CPU can serve, more requests in flight only wait
longer, each one holding memory and a connection, until every client times out and
the probes with them. So at most ``max_requests_in_flight`` requests are served at a
time; the next is answered 503 with ``Retry-After`` at once (a load balancer or a
client retries elsewhere or later), counted in ``ocpo_http_refused_total``. The
probes and the metrics are never refused: they are how an operator sees the overload.
"""

import json

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from ocpo_coord.api.middleware import route_path

REFUSED = Counter("ocpo_http_refused_total", "Requests refused at once because the process was full.")
NEVER_REFUSED = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 1

_BODY = json.dumps(
    {
        "detail": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "the service is at capacity; retry shortly",
            "field": None,
        }
    }
).encode()


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or route_path(scope) in NEVER_REFUSED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            REFUSED.inc()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_BODY)).encode()),
                        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
