"""Queries on the trusted installations and on the proofs imported packages carried."""

import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import HandoverImportCheckpoint, HandoverImportProof, Record, TrustedInstallation
from ocpo_coord.visibility.readable import readable


async def in_force(session: AsyncSession) -> list[TrustedInstallation]:
    statement = select(TrustedInstallation).where(col(TrustedInstallation.revoked_at).is_(None))
    return list((await session.exec(statement.order_by(col(TrustedInstallation.name)))).all())


async def every_key(session: AsyncSession) -> list[TrustedInstallation]:
    """Revoked keys too, newest first within a name."""
    statement = select(TrustedInstallation).order_by(
        col(TrustedInstallation.name), col(TrustedInstallation.registered_at).desc()
    )
    return list((await session.exec(statement)).all())


async def by_vkey(session: AsyncSession, vkey: str) -> TrustedInstallation | None:
    return (await session.exec(select(TrustedInstallation).where(TrustedInstallation.vkey == vkey))).first()


async def in_force_named(session: AsyncSession, name: str) -> TrustedInstallation | None:
    statement = select(TrustedInstallation).where(
        TrustedInstallation.name == name, col(TrustedInstallation.revoked_at).is_(None)
    )
    return (await session.exec(statement)).first()


async def readable_proofs(
    session: AsyncSession, principal: Principal, now: datetime, record_id: uuid.UUID
) -> list[tuple[HandoverImportProof, HandoverImportCheckpoint]]:
    """The imported proofs about ``record_id`` when ``principal`` may read the record;
    none otherwise (as for a record that does not exist)."""
    statement = (
        select(HandoverImportProof, HandoverImportCheckpoint)
        .join(
            HandoverImportCheckpoint,
            col(HandoverImportCheckpoint.handover_id) == col(HandoverImportProof.handover_id),
        )
        .join(Record, col(Record.id) == col(HandoverImportProof.record_id))
        .where(col(HandoverImportProof.record_id) == record_id, readable(principal, now=now))
        .order_by(col(HandoverImportProof.leaf_index))
    )
    return [(proof, checkpoint) for proof, checkpoint in (await session.exec(statement)).all()]


async def record_is_readable(
    session: AsyncSession, principal: Principal, now: datetime, record_id: uuid.UUID
) -> bool:
    statement = select(Record.id).where(Record.id == record_id, readable(principal, now=now))
    return (await session.exec(statement)).first() is not None
