"""The ASGI application: REST under /api/v1, GraphQL at /graphql, health probes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from ocpo_coord.access.router import router as access_router
from ocpo_coord.api import errors
from ocpo_coord.case.router import router as case_router
from ocpo_coord.db import get_engine, make_async_engine, sessionmaker_for
from ocpo_coord.directory.router import router as directory_router
from ocpo_coord.entity.router import router as entity_router
from ocpo_coord.evidence.router import router as evidence_router
from ocpo_coord.gql.schema import graphql_router
from ocpo_coord.intel.router import router as intel_router
from ocpo_coord.note.router import router as note_router
from ocpo_coord.sharing_admin.router import router as sharing_admin_router
from ocpo_coord.task.router import router as task_router


def create_app(*, database_url: str | None = None) -> FastAPI:
    """The service; ``database_url`` overrides the configured database (tests, tools)."""
    engine = make_async_engine(database_url) if database_url else get_engine()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if database_url:
            await engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="ocpo-coord",
        version="0.1.0",
        description=(
            "Multi-agency coordination and handover tracker for peace operations facing organized crime."
        ),
    )
    app.state.sessionmaker = sessionmaker_for(engine)
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    api.include_router(directory_router)
    api.include_router(access_router)
    for router in (
        case_router,
        note_router,
        intel_router,
        evidence_router,
        entity_router,
        task_router,
        sharing_admin_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(graphql_router(), prefix="/graphql")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    async def readyz() -> dict[str, str] | JSONResponse:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # the probe reports, it never raises
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return {"status": "ok", "database": "ok"}

    return app
