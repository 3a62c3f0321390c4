"""Prometheus metrics: HTTP traffic, database pool, and domain events other packages count.

One process (the default, one per container) keeps and exposes its own figures;
Prometheus scrapes every container and sums. ``ocpo-coord serve --workers N`` runs
several processes behind one port, where a scrape would reach any one of them: it then
turns on prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), so every
worker answers with the figures of all of them. The pool gauges are always those of
the process that answers.

Routes are labelled by their template (``/api/v1/cases/{case_id}``), never the raw
path, so the number of series stays bounded whatever ids callers send.
"""

import hmac
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocpo_coord.config import Settings

HTTP_REQUESTS = Counter("ocpo_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "ocpo_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_ERRORS = Counter(
    "ocpo_http_errors_total",
    "Requests that ended in a server error (5xx or an exception).",
    ["method", "route"],
)
# Counted by the handover and deconfliction packages as their events happen.
HANDOVER_EVENTS = Counter(
    "ocpo_handover_events_total", "Handover events (created, line disposed, signed, completed...).", ["event"]
)
DECONFLICTION_EVENTS = Counter(
    "ocpo_deconfliction_events_total", "Deconfliction hits notified, by kind (selector, operation).", ["kind"]
)

UNMATCHED = "unmatched"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _route(scope: Scope) -> str:
    """The matched route's template, or "unmatched".

    Routes of included routers know only their own part of the path, so the template is
    rebuilt from the request path by putting each path parameter's name back in place.
    """
    if scope.get("route") is None:
        return UNMATCHED
    path: str = scope.get("path", "")
    for name, value in (scope.get("path_params") or {}).items():
        text = str(value)
        if text:
            path = path.replace(f"/{text}", f"/{{{name}}}", 1)
    return path


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope["method"]
        try:
            await self.app(scope, receive, tracked)
        except BaseException:
            HTTP_ERRORS.labels(method, _route(scope)).inc()
            raise
        finally:
            route = _route(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - start)
        if status >= 500:
            HTTP_ERRORS.labels(method, route).inc()


class PoolCollector(Collector):
    """The SQLAlchemy connection pool of one engine, read at scrape time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[GaugeMetricFamily]:
        pool = self.engine.sync_engine.pool
        figures = {
            "size": "Connections the pool keeps.",
            "checkedin": "Idle connections in the pool.",
            "checkedout": "Connections in use.",
            "overflow": "Connections beyond the pool size.",
        }
        for name, help_text in figures.items():
            reader = getattr(pool, name, None)
            if callable(reader):  # not every pool class keeps every figure (SQLite's)
                value = float(reader())
                if name == "overflow":
                    # The pool counts overflow from minus its size (no connection open
                    # yet); what it holds beyond its size is never below zero.
                    value = max(0.0, value)
                gauge = GaugeMetricFamily(f"ocpo_db_pool_{name}", help_text, labels=["dialect"])
                gauge.add_metric([self.engine.dialect.name], value)
                yield gauge


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def may_scrape(settings: Settings, client_host: str | None, authorization: str | None) -> bool:
    """With a metrics token, its bearer; without one, loopback clients only."""
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}"
        return hmac.compare_digest((authorization or "").encode(), expected.encode())
    return client_host in _LOOPBACK


def metrics_endpoint(engine: AsyncEngine, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not may_scrape(settings, host, request.headers.get("authorization")):
            # As if absent: nothing tells a stranger that metrics exist here.
            return JSONResponse(
                {"detail": {"code": "NOT_FOUND", "message": "Not Found", "field": None}}, status_code=404
            )
        return Response(exposition(engine), media_type=CONTENT_TYPE_LATEST)

    return metrics


def prepare_multiprocess(directory: Path) -> None:
    """Before worker processes start: a fresh directory where they share their figures.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is kept as it is.
    """
    if os.environ.get(MULTIPROC_ENV):
        return
    shutil.rmtree(directory, ignore_errors=True)  # figures of a previous run would add up
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def exposition(engine: AsyncEngine) -> bytes:
    """The process's (or all workers') metrics and this application's pool, as text."""
    if os.environ.get(MULTIPROC_ENV):
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        figures = generate_latest(shared)
    else:
        figures = generate_latest(REGISTRY)
    pool = CollectorRegistry(auto_describe=False)
    pool.register(PoolCollector(engine))
    return figures + generate_latest(pool)
