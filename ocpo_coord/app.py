"""The ASGI application: REST under /api/v1, GraphQL at /graphql, health probes."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from ocpo_coord import clock, heap
from ocpo_coord.access.router import router as access_router
from ocpo_coord.api import errors
from ocpo_coord.api.admission import AdmissionMiddleware
from ocpo_coord.api.docs_access import SignedInDocs
from ocpo_coord.api.middleware import (
    RejectNulMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from ocpo_coord.api.retry import RetryConflicts
from ocpo_coord.api.unavailable import RETRY_AFTER_SECONDS, database_answers
from ocpo_coord.audit import sequencer
from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.case.router import router as case_router
from ocpo_coord.casefile.router import router as casefile_router
from ocpo_coord.config import ApiDocs, Environment, Settings, get_settings
from ocpo_coord.coordination.router import router as coordination_router
from ocpo_coord.db.engine import get_engine, make_async_engine, sessionmaker_for
from ocpo_coord.deconfliction.router import router as deconfliction_router
from ocpo_coord.directory.router import router as directory_router
from ocpo_coord.entity.router import router as entity_router
from ocpo_coord.evidence.router import router as evidence_router
from ocpo_coord.exports.router import router as exports_router
from ocpo_coord.handover.router import checklist_router as handover_checklist_router
from ocpo_coord.handover.router import consent_router as handover_consent_router
from ocpo_coord.handover.router import rotation_router
from ocpo_coord.handover.router import router as handover_router
from ocpo_coord.handover.trust_router import proofs_router as handover_proofs_router
from ocpo_coord.handover.trust_router import trust_router as handover_trust_router
from ocpo_coord.intel.router import router as intel_router
from ocpo_coord.logging_setup import configure_logging
from ocpo_coord.metrics import MetricsMiddleware, metrics_endpoint
from ocpo_coord.note.router import router as note_router
from ocpo_coord.notification.router import router as notification_router
from ocpo_coord.oversight.log_router import router as audit_log_router
from ocpo_coord.oversight.router import router as audit_router
from ocpo_coord.schema import graphql_router
from ocpo_coord.sharing.router import router as sharing_router
from ocpo_coord.stix.router import router as stix_router
from ocpo_coord.task.router import router as task_router
from ocpo_coord.taxii.messages import TaxiiMessages
from ocpo_coord.taxii.router import router as taxii_router
from ocpo_coord.web import ide
from ocpo_coord.web import router as web


class Service(FastAPI):
    """FastAPI with the posture middleware outside all of its own, error handling included.

    Middleware added with ``add_middleware`` runs inside the last-resort 500 handler, so a
    500 would leave without security headers, request id or CORS headers (a browser would
    then report a CORS failure instead of the error).
    """

    def __init__(self, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def openapi(self) -> dict[str, Any]:
        """The description as the service answers: 400 and 413 (a body that cannot be read,
        or is too large) only where a body is read; an optional parameter is left out, never sent as ``null``
        (a header or query string has no null: it would arrive as the text "null")."""
        if self.openapi_schema is None:
            description = super().openapi()
            for operations in description.get("paths", {}).values():
                for operation in operations.values():
                    if not isinstance(operation, dict):
                        continue
                    if "requestBody" not in operation:
                        for status in ("400", "413"):
                            operation.get("responses", {}).pop(status, None)
                    for parameter in operation.get("parameters", []):
                        _not_null(parameter.get("schema", {}))
        return super().openapi()

    def build_middleware_stack(self) -> ASGIApp:
        # Around the error handlers: an attempt aborted against another transaction is
        # answered by them, and that answer held back while the request runs again.
        app: ASGIApp = RetryConflicts(super().build_middleware_stack())
        if self.settings.cors_origins:
            app = CORSMiddleware(
                app,
                allow_origins=self.settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "If-Match",
                    "Idempotency-Key",
                    "X-Request-ID",
                ],
                expose_headers=["ETag", "X-Request-ID", "Retry-After", "Idempotent-Replayed"],
                max_age=600,
            )
        app = RejectNulMiddleware(app)
        # Outside the body's reading: a full process refuses before reading anything.
        app = AdmissionMiddleware(app, limit=self.settings.max_requests_in_flight)
        # Outside every refusal of the service's own (a body too large, a full process, a
        # 500): under /taxii2 each one is answered as a TAXII error message.
        app = TaxiiMessages(app)
        app = SecurityHeadersMiddleware(
            app,
            hsts=self.settings.environment is Environment.PRODUCTION,
            pages=lru_cache(maxsize=8)(self._page_policies),
        )
        return MetricsMiddleware(RequestContextMiddleware(app))

    def setup(self) -> None:
        """FastAPI's description route; its documentation pages are replaced by pages that
        load everything from the package (``web/ide.py``), so no OAuth2 redirect page."""
        docs_url, redoc_url = self.docs_url, self.redoc_url
        self.docs_url = self.redoc_url = None
        try:
            super().setup()
        finally:
            self.docs_url, self.redoc_url = docs_url, redoc_url
        if self.openapi_url:
            ide.install_docs(self, docs_url=self.docs_url, redoc_url=self.redoc_url)

    def _page_policies(self, root_path: str) -> Mapping[str, str]:
        """The CSP of each HTML page: scripts and styles from this origin only (the pages
        and their files are the package's), whatever the root path."""
        policies: dict[str, str] = {"/graphql": ide.GRAPHIQL_POLICY}
        if self.openapi_url and self.docs_url:
            policies[self.docs_url] = ide.SWAGGER_POLICY
        if self.openapi_url and self.redoc_url:
            policies[self.redoc_url] = ide.REDOC_POLICY
        return policies


def _not_null(schema: dict[str, Any]) -> None:
    variants = [v for v in schema.pop("anyOf", []) if v.get("type") != "null"]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants
    if schema.get("default", ...) is None:
        del schema["default"]


def create_app(*, database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """The service; ``database_url`` overrides the configured database (tests, tools), and
    ``settings`` the configured HTTP posture: logs, CORS, security headers (tests)."""
    settings = settings or get_settings()
    clock.use(settings.demo_today)
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    engine = make_async_engine(database_url, settings) if database_url else get_engine()

    # Refuses to start without the audit log's signing key (production names its file).
    signer = checkpoint_signer(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        heap.settle()
        if settings.audit_sequencer:
            async with sequencer.running(engine, signer, interval=settings.audit_integration_seconds):
                yield
        else:
            yield
        if database_url:
            await engine.dispose()

    docs = settings.api_docs_mode
    hidden: dict[str, Any] = (
        {"openapi_url": None, "docs_url": None, "redoc_url": None} if docs is ApiDocs.OFF else {}
    )
    app = Service(
        settings=settings,
        lifespan=lifespan,
        **hidden,
        title="ocpo-coord",
        version="0.1.0",
        description=(
            "Multi-agency coordination and handover tracker for peace operations facing organized crime."
        ),
    )
    app.state.sessionmaker = sessionmaker_for(engine)
    errors.install(app)
    if docs is ApiDocs.SIGNED_IN:
        app.add_middleware(
            SignedInDocs,
            settings=settings,
            paths=(app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url),
        )

    # GraphQL first: every operation is one route, and matching it after the REST
    # routers meant trying each of theirs on every operation.
    app.include_router(graphql_router(), prefix="/graphql")
    # Each REST router directly under /api/v1: one router holding them all was one more
    # level that FastAPI walks on every request.
    for router in (
        directory_router,
        access_router,
        audit_router,
        audit_log_router,
        handover_router,
        handover_consent_router,
        handover_checklist_router,
        handover_trust_router,
        handover_proofs_router,
        rotation_router,
        case_router,
        casefile_router,
        note_router,
        intel_router,
        evidence_router,
        entity_router,
        task_router,
        sharing_router,
        coordination_router,
        deconfliction_router,
        notification_router,
        stix_router,
        exports_router,
    ):
        app.include_router(router, prefix="/api/v1", responses=errors.ERROR_RESPONSES)
    app.include_router(taxii_router)  # TAXII 2.1 for threat-intelligence platforms
    ide.install_ide(app)
    web.install(app)  # the coordinators' page at /coord, reading through /graphql

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_api_route("/metrics", metrics_endpoint(engine, settings), include_in_schema=False)

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=None,
        responses={503: {"description": "The database cannot be reached.", "model": dict[str, str]}},
    )
    async def readyz() -> dict[str, str] | JSONResponse:
        if not await database_answers(engine, within=settings.ready_timeout_seconds):
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"},
                503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return {"status": "ok", "database": "ok"}

    return app
