"""Evidence rules: fixity is set once; custody only ever grows."""

import uuid
from collections import defaultdict
from collections.abc import AsyncIterable
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.db.queries import among
from ocpo_coord.evidence.schemas import (
    CustodyEventPublic,
    CustodyTransfer,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
)
from ocpo_coord.evidence.store import FileStore, Stored, not_the_file
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.models import CustodyEvent, Evidence, Record
from ocpo_coord.models.enums import EvidenceKind, RecordKind
from ocpo_coord.records.children import parent_case
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_record,
    markings_public,
    touch,
)
from ocpo_coord.visibility.pagination import Page
from ocpo_coord.visibility.policy import enforce, may_edit
from ocpo_coord.visibility.repository import (
    RecordRepository,
    agency_codes,
    agency_ids_by_code,
    releases_for,
    user_ids_by_login,
)

# The columns EvidencePublic shows as they are.
_COPIED = copied_columns(EvidencePublic, Evidence)


def _repo(session: AsyncSession, actor: Actor) -> RecordRepository[Evidence]:
    return RecordRepository(session, Evidence, RecordKind.EVIDENCE, principal=actor.principal, now=actor.now)


async def to_public(session: AsyncSession, rows: list[tuple[Evidence, Record]]) -> list[EvidencePublic]:
    ids = [e.id for e, _ in rows]
    codes = await agency_codes(session)
    releases = await releases_for(session, ids)
    chain: dict[uuid.UUID, list[CustodyEvent]] = defaultdict(list)
    if ids:
        events = (
            await session.exec(
                select(CustodyEvent)
                .where(among(session, col(CustodyEvent.evidence_id), ids))
                .order_by(col(CustodyEvent.received_at), col(CustodyEvent.id))
            )
        ).all()
        for event in events:
            chain[event.evidence_id].append(event)
    holders = await user_logins(
        session, {e.holder_user_id for es in chain.values() for e in es if e.holder_user_id}
    )
    return [
        EvidencePublic(
            **_COPIED(evidence, record),
            case_id=record.parent_id,
            custody=[
                CustodyEventPublic(
                    holder_agency=codes.get(e.holder_agency_id, "?"),
                    holder=holders.get(e.holder_user_id) if e.holder_user_id else None,
                    received_at=e.received_at,
                    location=e.location,
                    note=e.note,
                )
                for e in chain.get(evidence.id, [])
            ],
            markings=markings_public(record, releases.get(evidence.id, []), codes),
        )
        for evidence, record in rows
    ]


KIND = declare(
    RecordKindSpec(
        RecordKind.EVIDENCE,
        "evidence",
        repository=_repo,
        assembler=lambda _actor: to_public,
    )
)


async def list_evidence(
    session: AsyncSession, *, actor: Actor, case_id: uuid.UUID | None, first: int, after: str | None
) -> Page[EvidencePublic]:
    # Without a case, the reader's whole list: the kept listing statement, walked
    # through the visibility index like every other unfiltered list.
    statement = _repo(session, actor).listing_statement()
    if case_id is not None:
        statement = statement.where(col(Record.parent_id) == case_id)
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=case_id is not None
    )  # a case's own children


async def _custody_event(
    session: AsyncSession, evidence_id: uuid.UUID, transfer: CustodyTransfer, field: str
) -> CustodyEvent:
    agencies = await agency_ids_by_code(session, [transfer.holder_agency])
    agency_id = agencies.get(transfer.holder_agency.upper())
    if agency_id is None:
        raise InvalidInput(f"unknown agency code: {transfer.holder_agency}", field=f"{field}.holder_agency")
    holder_id = None
    if transfer.holder_login:
        holder_id = (await user_ids_by_login(session, [transfer.holder_login])).get(transfer.holder_login)
        if holder_id is None:
            raise InvalidInput(f"unknown user login: {transfer.holder_login}", field=f"{field}.holder_login")
    return CustodyEvent(
        evidence_id=evidence_id,
        holder_agency_id=agency_id,
        holder_user_id=holder_id,
        received_at=transfer.received_at,
        location=transfer.location,
        note=transfer.note,
    )


async def create_evidence(session: AsyncSession, *, actor: Actor, data: EvidenceCreate) -> EvidencePublic:
    if data.evidence_kind is EvidenceKind.FILE and data.sha256 is None:
        raise InvalidInput("a file needs its SHA-256 digest", field="sha256")
    case = await parent_case(session, actor, data.case_id)
    record = await create_record(
        session,
        actor=actor,
        kind=RecordKind.EVIDENCE,
        markings=data.markings,
        theatre_id=case.theatre_id,
        parent=case,
    )
    evidence = Evidence(
        id=record.id,
        **data.model_dump(exclude={"case_id", "markings"}),
    )
    session.add(evidence)
    await session.flush()
    # The chain of custody starts with whoever logged the item.
    assert actor.principal.agency_code is not None
    session.add(
        await _custody_event(
            session,
            evidence.id,
            CustodyTransfer(
                holder_agency=actor.principal.agency_code,
                holder_login=actor.principal.login,
                received_at=data.collected_at or actor.now,
                location=data.storage_location or "not stated",
                note="logged",
            ),
            "custody",
        )
    )
    return await KIND.created(session, actor, evidence.id)


async def update_evidence(
    session: AsyncSession, *, actor: Actor, evidence_id: uuid.UUID, data: EvidenceUpdate
) -> EvidencePublic:
    async def apply(evidence: Evidence, _record: Record) -> None:
        evidence.sqlmodel_update(
            data.model_dump(exclude_unset=True, exclude={"expected_version", "custody_transfer", "markings"})
        )
        if data.custody_transfer is not None:
            latest = (
                await session.exec(
                    select(CustodyEvent.received_at)
                    .where(CustodyEvent.evidence_id == evidence.id)
                    .order_by(col(CustodyEvent.received_at).desc())
                    .limit(1)
                )
            ).first()
            # The chain only grows forward: a hand-over cannot predate the current holding.
            if latest is not None and data.custody_transfer.received_at < latest:
                raise InvalidInput(
                    f"is before the current holder received the item ({latest.isoformat()})",
                    field="custody_transfer.received_at",
                )
            session.add(await _custody_event(session, evidence.id, data.custody_transfer, "custody_transfer"))
            evidence.storage_location = data.custody_transfer.location

    _, _, updated = await KIND.update(session, actor, evidence_id, data, apply)
    return updated


async def attach_file(
    session: AsyncSession,
    *,
    actor: Actor,
    evidence_id: uuid.UUID,
    chunks: AsyncIterable[bytes],
    store: FileStore,
    limit: int,
) -> EvidencePublic:
    """Keep the bytes of a file item. They must hash to the digest recorded when the
    item was logged: the upload proves the file is the one seized, and the digest,
    set once, never changes. The same bytes sent again change nothing.

    The bytes may take minutes to arrive, and no lock is held while they do: who may
    send them is checked first, in a transaction that writes nothing and ends before
    the first byte is read (on SQLite every transaction holds the write lock); the
    write is a transaction of its own, which checks again, as things may have changed.
    So this ends the caller's transaction: it is for a request's session alone. Work in a
    transaction of its own keeps the bytes with ``FileStore`` and calls ``keep_file``."""
    expected = _file_item(await _repo(session, actor).get(evidence_id), actor).sha256
    assert expected is not None
    await session.rollback()
    stored = await store.receive(chunks, expected=expected, limit=limit)
    return await keep_file(session, actor=actor, evidence_id=evidence_id, stored=stored)


async def keep_file(
    session: AsyncSession, *, actor: Actor, evidence_id: uuid.UUID, stored: Stored
) -> EvidencePublic:
    """Mark a file item's bytes as kept, once they are in the store under their digest."""
    row = await _repo(session, actor).get_for_update(evidence_id)
    evidence = _file_item(row, actor)
    assert row is not None
    if stored.sha256 != evidence.sha256:
        raise not_the_file(stored.sha256, str(evidence.sha256))
    if evidence.content_stored:
        return (await to_public(session, [row]))[0]
    before = (await to_public(session, [row]))[0].model_dump(mode="json")
    evidence.content_stored = True
    # The digest proves these are the item's bytes, so their size is its size.
    evidence.size_bytes = stored.size
    touch(row[1], actor)
    await session.flush()
    updated = await KIND.get(session, actor, evidence.id)
    await record_event(
        session,
        actor=actor,
        action="evidence.file",
        record_kind=RecordKind.EVIDENCE,
        record_id=evidence.id,
        before=before,
        after=updated.model_dump(mode="json"),
        detail=f"file kept: {stored.size} bytes, SHA-256 {stored.sha256}",
    )
    return updated


def _file_item(row: tuple[Evidence, Record] | None, actor: Actor) -> Evidence:
    """The item, if the actor may give it its file."""
    if row is None:
        raise NotFound("evidence")
    evidence, record = row
    enforce(may_edit(actor.principal, record))
    if evidence.evidence_kind != EvidenceKind.FILE or evidence.sha256 is None:
        raise Conflict(
            "a physical item holds no file; log the file as evidence of its own", field="evidence_kind"
        )
    return evidence


async def open_file(
    session: AsyncSession, *, actor: Actor, evidence_id: uuid.UUID, store: FileStore
) -> tuple[EvidencePublic, Path]:
    """The kept file of an item the reader may read. Every download is audited,
    whatever the item's markings: who took a copy of the evidence is part of its custody."""
    public = await KIND.get(session, actor, evidence_id)
    if not public.content_stored or public.sha256 is None:
        raise NotFound("file of this evidence")
    path = store.kept(public.sha256)
    await record_event(
        session,
        actor=actor,
        action="evidence.download",
        record_kind=RecordKind.EVIDENCE,
        record_id=public.id,
        detail=f"{public.size_bytes} bytes, SHA-256 {public.sha256}",
    )
    return public, path
