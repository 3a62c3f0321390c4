"""Case rules: who may open, change and read cases, and what each change records."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import theatre_by_code, theatre_codes, user_logins
from ocpo_coord.case import repository
from ocpo_coord.case.repository import CaseRepository
from ocpo_coord.case.schemas import CaseCreate, CaseFilter, CasePublic, CaseUpdate
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import InvalidInput
from ocpo_coord.models import Case, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.codes import agency_filter, agency_ids_from_codes, theatre_filter
from ocpo_coord.records.kinds import RecordKindSpec, declare
from ocpo_coord.records.service import (
    copied_columns,
    create_record,
    flush_unique,
    markings_public,
)
from ocpo_coord.task.reach import release_unreadable
from ocpo_coord.visibility.pages import any_filter
from ocpo_coord.visibility.pagination import Page
from ocpo_coord.visibility.repository import (
    agency_codes,
    releases_for,
    user_ids_by_login,
)

# The columns CasePublic shows as they are.
_COPIED = copied_columns(CasePublic, Case)


def _repo(session: AsyncSession, actor: Actor) -> CaseRepository:
    return CaseRepository(session, principal=actor.principal, now=actor.now)


async def to_public(session: AsyncSession, rows: list[tuple[Case, Record]]) -> list[CasePublic]:
    """Assemble a page of cases with a fixed number of queries, whatever its size."""
    ids = [case.id for case, _ in rows]
    codes = await agency_codes(session)
    theatres = await theatre_codes(session)
    crime_types = await repository.crime_types_for(session, ids)
    participants = await repository.agencies_for(session, ids)
    members = await repository.members_for(session, ids)
    logins = await user_logins(session, {m for ms in members.values() for m in ms})
    releases = await releases_for(session, ids)
    return [
        CasePublic(
            **_COPIED(case, record),
            crime_types=sorted(crime_types.get(case.id, [])),
            lead_agency=codes[case.lead_agency_id],
            participating_agencies=sorted(codes[a] for a in participants.get(case.id, [])),
            members=sorted(logins[m] for m in members.get(case.id, []) if m in logins),
            theatre=theatres.get(record.theatre_id) if record.theatre_id else None,
            markings=markings_public(record, releases.get(case.id, []), codes),
        )
        for case, record in rows
    ]


async def _member_ids(session: AsyncSession, logins: list[str], field: str) -> list[uuid.UUID]:
    found = await user_ids_by_login(session, logins)
    unknown = sorted(set(logins) - set(found))
    if unknown:
        raise InvalidInput(f"unknown user login(s): {', '.join(unknown)}", field=field)
    return list(found.values())


KIND = declare(
    RecordKindSpec(
        RecordKind.CASE,
        "case",
        repository=_repo,
        assembler=lambda _actor: to_public,
    )
)


async def list_cases(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: CaseFilter,
    first: int,
    after: str | None,
    count: bool = True,
) -> Page[CasePublic]:
    theatre_id = await theatre_filter(session, filters.theatre)
    agency_id = await agency_filter(session, filters.agency)
    statement = _repo(session, actor).filtered(
        status=filters.status,
        crime_type=filters.crime_type,
        theatre_id=theatre_id,
        agency_id=agency_id,
        text=filters.text,
    )
    return await KIND.page(
        session, actor, statement, first=first, after=after, filtered=any_filter(filters), count=count
    )


async def create_case(
    session: AsyncSession, *, actor: Actor, data: CaseCreate, reference: str | None = None
) -> CasePublic:
    """Open a case. ``reference`` is for trusted loaders (seed, handover import) only:
    a caller-chosen reference that collided would reveal a case the caller cannot read."""
    principal = actor.principal
    theatre = await theatre_by_code(session, data.theatre)
    if theatre is None:
        raise InvalidInput(f"unknown theatre code: {data.theatre}", field="theatre")
    participants = await agency_ids_from_codes(session, data.participating_agencies, "participating_agencies")
    members = await _member_ids(session, data.members, "members")
    record = await create_record(
        session, actor=actor, kind=RecordKind.CASE, markings=data.markings, theatre_id=theatre.id
    )
    assert principal.agency_id is not None
    if reference is None:
        reference = await repository.new_reference(session, f"{principal.agency_code}-{actor.now.year}-")
    if data.restricted:
        record.restricted_case_id = record.id
    case = Case(
        id=record.id,
        reference=reference,
        title=data.title,
        summary=data.summary,
        status=data.status,
        judicial_stage=data.judicial_stage,
        priority=data.priority,
        lead_agency_id=principal.agency_id,
        restricted=data.restricted,
        opened_on=data.opened_on or actor.now.date(),
    )
    session.add(case)
    await flush_unique(session, "reference", reference)
    # The creator is always a member, so restricting a case never locks its author out.
    await repository.replace_links(
        session,
        case.id,
        crime_types=list(data.crime_types),
        agency_ids=participants,
        member_ids=[*members, principal.user_id],
    )
    created = await KIND.get(session, actor, case.id)
    await record_event(
        session,
        actor=actor,
        action="case.create",
        record_kind=RecordKind.CASE,
        record_id=case.id,
        after=created.model_dump(mode="json"),
    )
    return created


async def update_case(
    session: AsyncSession, *, actor: Actor, case_id: uuid.UUID, data: CaseUpdate
) -> CasePublic:
    async def apply(case: Case, record: Record) -> None:
        changes = data.model_dump(
            exclude_unset=True,
            exclude={
                "expected_version",
                "crime_types",
                "participating_agencies",
                "members",
                "markings",
                "restricted",
            },
        )
        case.sqlmodel_update(changes)
        await repository.replace_links(
            session,
            case.id,
            crime_types=list(data.crime_types) if data.crime_types is not None else None,
            agency_ids=await agency_ids_from_codes(
                session, data.participating_agencies, "participating_agencies"
            )
            if data.participating_agencies is not None
            else None,
            member_ids=await _member_ids(session, [*data.members, actor.principal.login], "members")
            if data.members is not None
            else None,
        )
        if data.restricted is not None and data.restricted != case.restricted:
            case.restricted = data.restricted
            await repository.set_restriction(session, record, data.restricted)

    case, _, updated = await KIND.update(session, actor, case_id, data, apply)
    if {"members", "restricted", "markings"} & data.model_fields_set:
        await release_unreadable(session, actor=actor, record_ids=[case.id])
    return updated
