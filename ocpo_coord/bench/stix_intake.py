"""STIX intake: a partner's bundle imported in process, as the command line does it.

The bundle (``generate_stix``) names phone numbers other agencies of the generated
theatre hold (every tenth person has one), so the import raises hits. The same bundle is imported a second time to
show that it creates nothing twice; only the first import is the figure.
"""

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.bench.generate_stix import stix_bundle
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import AuditEvent, DeconflictionHit, Record, Selector
from ocpo_coord.models.enums import SelectorKind
from ocpo_coord.stix.importer import import_bundle
from ocpo_coord.stix.schemas import StixImportResult

# The bundle: 10,000 objects; a smaller run (a smoke test) gets a few hundred.
FULL_OBJECTS = 10_000
SMALL_OBJECTS = 200


def objects_for(scale: float) -> int:
    return FULL_OBJECTS if scale >= 0.01 else SMALL_OBJECTS


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def _held_elsewhere(session: AsyncSession, agency_id: uuid.UUID | None, limit: int) -> list[str]:
    """Phone numbers entities of other agencies hold: an import naming them raises hits."""
    statement = (
        select(col(Selector.value))
        .join(Record, col(Record.id) == col(Selector.entity_id))
        .where(col(Selector.kind) == SelectorKind.PHONE, col(Record.owner_agency_id) != agency_id)
        .order_by(col(Selector.value))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def _run(database_url: str, login: str, objects: int, theatre: str) -> dict[str, Any]:
    engine = make_async_engine(database_url)
    try:
        maker = sessionmaker_for(engine)
        async with maker() as session:
            principal = await load_principal(session, login)
            shared = await _held_elsewhere(session, principal.agency_id, 20)
        bundle = stix_bundle(objects, seed=f"bench-{uuid.uuid4().hex[:8]}", shared=shared, theatre=theatre)

        async def counts() -> tuple[int, int, int]:
            async with maker() as session:
                return (
                    await _count(session, Record),
                    await _count(session, DeconflictionHit),
                    await _count(
                        session,
                        AuditEvent,
                        col(AuditEvent.action).in_(["intel_item.import", "entity.import"]),
                    ),
                )

        async def once() -> tuple[StixImportResult, float]:
            async with maker() as session:
                actor = Actor(
                    principal=await load_principal(session, login), request_id=f"bench-{uuid.uuid4().hex}"
                )
                started = time.perf_counter()
                result = await import_bundle(
                    session, actor=actor, bundle=bundle, theatre=theatre, source=None
                )
                await session.commit()
                return result, time.perf_counter() - started

        before = await counts()
        first, seconds = await once()
        after = await counts()
        again, again_seconds = await once()
        if await counts() != after:
            raise AssertionError("the second import of the same bundle wrote records, hits or entries")
    finally:
        await engine.dispose()
    objects = len(bundle["objects"])
    return {
        "objects": objects,
        "items_created": len(first.created),
        "records_created": after[0] - before[0],
        "hits_raised": after[1] - before[1],
        "audit_entries": after[2] - before[2],
        "seconds": seconds,
        "per_second": objects / seconds,
        "again_created": len(again.created),
        "again_seconds": again_seconds,
    }


def stix_intake(database_url: str, *, login: str, objects: int, theatre: str) -> dict[str, Any]:
    return asyncio.run(_run(database_url, login, objects, theatre))
