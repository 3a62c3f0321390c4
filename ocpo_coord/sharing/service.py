"""Sharing administration rules: an agency's administrators run its own sharing groups
and agreements; a record's owner grants and revokes access to it. Every write is
audited in the caller's transaction."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.directory import user_logins
from ocpo_coord.context import Actor
from ocpo_coord.exceptions import Conflict, InvalidInput, NotFound
from ocpo_coord.models import Agency, Record, RecordGrant, SharingAgreement, SharingGroup, SharingGroupMember
from ocpo_coord.models.enums import Classification
from ocpo_coord.sharing import repository
from ocpo_coord.sharing.schemas import (
    AgreementCreate,
    AgreementPublic,
    AgreementStatus,
    GrantCreate,
    GrantPublic,
    SharingGroupCreate,
    SharingGroupMemberChange,
    SharingGroupPublic,
    SharingGroupUpdate,
)
from ocpo_coord.task.reach import release_unreadable
from ocpo_coord.visibility.pagination import Page, empty_page, entity_page
from ocpo_coord.visibility.policy import (
    enforce,
    may_add_group_member,
    may_administer_sharing,
    may_change_group,
    may_edit,
    may_end_agreement,
    may_widen,
)
from ocpo_coord.visibility.repository import agency_codes, agency_ids_by_code, readable_record

LONGEST_GRANT = timedelta(days=365)


def _own_agency(actor: Actor) -> uuid.UUID | None:
    """The agency whose sharing the actor sees; none for installation administrators."""
    principal = actor.principal
    return principal.agency_id if principal.reads_agency_data else None


async def _agency(session: AsyncSession, code: str, field: str) -> Agency:
    agency = await repository.agency_by_code(session, code)
    if agency is None:
        raise InvalidInput(f"unknown agency code: {code.upper()}", field=field)
    return agency


async def _flush_unique_name(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"your agency already has a sharing group named {name!r}", field="name") from exc


# Sharing groups


async def _groups_public(session: AsyncSession, groups: list[SharingGroup]) -> list[SharingGroupPublic]:
    codes = await agency_codes(session)
    members = await repository.members_of(session, [g.id for g in groups])
    return [
        SharingGroupPublic(
            id=g.id,
            name=g.name,
            owner_agency=codes.get(g.owner_agency_id, "?"),
            members=sorted(codes[m] for m in members.get(g.id, []) if m in codes),
            created_at=g.created_at,
        )
        for g in groups
    ]


async def _group_public(session: AsyncSession, group: SharingGroup) -> SharingGroupPublic:
    return (await _groups_public(session, [group]))[0]


async def _visible_group(
    session: AsyncSession, actor: Actor, group_id: uuid.UUID, *, for_update: bool = False
) -> SharingGroup:
    """A group the actor's agency owns or belongs to; any other looks missing."""
    agency_id = _own_agency(actor)
    group = (
        await repository.visible_group(session, group_id, agency_id, for_update=for_update)
        if agency_id is not None
        else None
    )
    if group is None:
        raise NotFound("sharing group")
    return group


async def list_groups(session: AsyncSession, *, actor: Actor) -> list[SharingGroupPublic]:
    agency_id = _own_agency(actor)
    groups = await repository.visible_groups(session, agency_id) if agency_id is not None else []
    return await _groups_public(session, groups)


async def page_groups(
    session: AsyncSession, *, actor: Actor, first: int, after: str | None
) -> Page[SharingGroupPublic]:
    """The same groups as ``list_groups``, by name, a page at a time."""
    agency_id = _own_agency(actor)
    if agency_id is None:
        return empty_page(first)
    return await entity_page(
        session,
        repository.groups_visible_to(agency_id),
        first=first,
        after=after,
        order=repository.GROUP_ORDER,
        convert=lambda groups: _groups_public(session, groups),
    )


async def get_group(session: AsyncSession, *, actor: Actor, group_id: uuid.UUID) -> SharingGroupPublic:
    return await _group_public(session, await _visible_group(session, actor, group_id))


async def create_group(
    session: AsyncSession, *, actor: Actor, data: SharingGroupCreate
) -> SharingGroupPublic:
    principal = actor.principal
    enforce(may_administer_sharing(principal))
    assert principal.agency_id is not None
    members = await agency_ids_by_code(session, data.members)
    unknown = sorted({c.upper() for c in data.members} - set(members))
    if unknown:
        raise InvalidInput(f"unknown agency code(s): {', '.join(unknown)}", field="members")
    group = SharingGroup(owner_agency_id=principal.agency_id, name=data.name, created_at=actor.now)
    session.add(group)
    await _flush_unique_name(session, data.name)
    session.add_all(SharingGroupMember(sharing_group_id=group.id, agency_id=m) for m in set(members.values()))
    await session.flush()
    created = await _group_public(session, group)
    await record_event(
        session, actor=actor, action="sharing_group.create", after=created.model_dump(mode="json")
    )
    return created


async def update_group(
    session: AsyncSession, *, actor: Actor, group_id: uuid.UUID, data: SharingGroupUpdate
) -> SharingGroupPublic:
    group = await _visible_group(session, actor, group_id, for_update=True)
    enforce(may_change_group(actor.principal, group))
    before = await _group_public(session, group)
    if data.name is not None and data.name != group.name:
        group.name = data.name
        await _flush_unique_name(session, data.name)
    updated = await _group_public(session, group)
    await record_event(
        session,
        actor=actor,
        action="sharing_group.update",
        before=before.model_dump(mode="json"),
        after=updated.model_dump(mode="json"),
    )
    return updated


async def add_member(
    session: AsyncSession, *, actor: Actor, group_id: uuid.UUID, data: SharingGroupMemberChange
) -> SharingGroupPublic:
    group = await _visible_group(session, actor, group_id, for_update=True)
    enforce(may_change_group(actor.principal, group))
    agency = await _agency(session, data.agency, "agency")
    if await repository.membership(session, group.id, agency.id) is not None:
        raise Conflict(f"{agency.code} is already a member of this group", field="agency")
    assert actor.principal.agency_id is not None
    others = await repository.carries_others_records(session, group.id, actor.principal.agency_id)
    enforce(may_add_group_member(actor.principal, group, carries_others_records=others))
    before = await _group_public(session, group)
    session.add(SharingGroupMember(sharing_group_id=group.id, agency_id=agency.id))
    await session.flush()
    updated = await _group_public(session, group)
    await record_event(
        session,
        actor=actor,
        action="sharing_group.member_add",
        before=before.model_dump(mode="json"),
        after=updated.model_dump(mode="json"),
    )
    return updated


async def remove_member(
    session: AsyncSession, *, actor: Actor, group_id: uuid.UUID, data: SharingGroupMemberChange
) -> SharingGroupPublic:
    """Narrowing takes effect at once: the next read no longer counts the membership."""
    group = await _visible_group(session, actor, group_id, for_update=True)
    enforce(may_change_group(actor.principal, group))
    agency = await _agency(session, data.agency, "agency")
    member = await repository.membership(session, group.id, agency.id)
    if member is None:
        raise InvalidInput(f"{agency.code} is not a member of this group", field="agency")
    before = await _group_public(session, group)
    await session.delete(member)
    await session.flush()
    updated = await _group_public(session, group)
    await record_event(
        session,
        actor=actor,
        action="sharing_group.member_remove",
        before=before.model_dump(mode="json"),
        after=updated.model_dump(mode="json"),
    )
    await release_unreadable(session, actor=actor, agency_ids=[agency.id])
    return updated


async def delete_group(session: AsyncSession, *, actor: Actor, group_id: uuid.UUID) -> SharingGroupPublic:
    group = await _visible_group(session, actor, group_id, for_update=True)
    enforce(may_change_group(actor.principal, group))
    if await repository.has_releases(session, group.id):
        raise Conflict(
            "records are still released to this group; release them elsewhere before deleting it",
            field="id",
        )
    before = await _group_public(session, group)
    await repository.delete_group(session, group)
    await record_event(
        session, actor=actor, action="sharing_group.delete", before=before.model_dump(mode="json")
    )
    return before


# Sharing agreements (MoUs)


def _status(agreement: SharingAgreement, now: datetime) -> AgreementStatus:
    """The same test as the sharing rule's ``AgreementInForce``: from inclusive, until exclusive."""
    if now < agreement.valid_from:
        return AgreementStatus.PENDING
    if now < agreement.valid_until:
        return AgreementStatus.IN_FORCE
    return AgreementStatus.ENDED


async def _agreements_public(
    session: AsyncSession, agreements: list[SharingAgreement], now: datetime
) -> list[AgreementPublic]:
    codes = await agency_codes(session)
    return [
        AgreementPublic(
            id=a.id,
            title=a.title,
            grantor_agency=codes.get(a.grantor_agency_id, "?"),
            grantee_agency=codes.get(a.grantee_agency_id, "?"),
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            max_classification=Classification(a.max_classification),
            status=_status(a, now),
            created_at=a.created_at,
        )
        for a in agreements
    ]


async def _agreement_public(
    session: AsyncSession, agreement: SharingAgreement, now: datetime
) -> AgreementPublic:
    return (await _agreements_public(session, [agreement], now))[0]


async def _party_agreement(session: AsyncSession, actor: Actor, agreement_id: uuid.UUID) -> SharingAgreement:
    """An agreement the actor's agency is party to; any other looks missing."""
    agency_id = _own_agency(actor)
    agreement = (
        await repository.agreement_of(session, agreement_id, agency_id) if agency_id is not None else None
    )
    if agreement is None:
        raise NotFound("agreement")
    return agreement


async def list_agreements(session: AsyncSession, *, actor: Actor) -> list[AgreementPublic]:
    agency_id = _own_agency(actor)
    agreements = await repository.agreements_of(session, agency_id) if agency_id is not None else []
    return await _agreements_public(session, agreements, actor.now)


async def page_agreements(
    session: AsyncSession, *, actor: Actor, first: int, after: str | None
) -> Page[AgreementPublic]:
    """The same agreements as ``list_agreements``, latest start first, a page at a time."""
    agency_id = _own_agency(actor)
    if agency_id is None:
        return empty_page(first)
    return await entity_page(
        session,
        repository.agreements_with(agency_id),
        first=first,
        after=after,
        order=repository.AGREEMENT_ORDER,
        convert=lambda agreements: _agreements_public(session, agreements, actor.now),
    )


async def get_agreement(session: AsyncSession, *, actor: Actor, agreement_id: uuid.UUID) -> AgreementPublic:
    return await _agreement_public(session, await _party_agreement(session, actor, agreement_id), actor.now)


async def create_agreement(session: AsyncSession, *, actor: Actor, data: AgreementCreate) -> AgreementPublic:
    principal = actor.principal
    enforce(may_administer_sharing(principal))
    grantee = await _agency(session, data.grantee_agency, "grantee_agency")
    if grantee.id == principal.agency_id:
        raise InvalidInput(
            "an agreement is with another agency; yours reads its own records", field="grantee_agency"
        )
    if data.valid_until <= data.valid_from:
        raise InvalidInput("must be after valid_from", field="valid_until")
    if data.valid_until <= actor.now:
        raise InvalidInput(
            "must be in the future: an agreement that has ended grants nothing", field="valid_until"
        )
    if data.max_classification > principal.clearance:
        raise InvalidInput("is above your clearance", field="max_classification")
    assert principal.agency_id is not None
    agreement = SharingAgreement(
        title=data.title,
        grantor_agency_id=principal.agency_id,
        grantee_agency_id=grantee.id,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        max_classification=data.max_classification,
        created_at=actor.now,
    )
    session.add(agreement)
    await session.flush()
    created = await _agreement_public(session, agreement, actor.now)
    await record_event(session, actor=actor, action="agreement.create", after=created.model_dump(mode="json"))
    return created


async def end_agreement(session: AsyncSession, *, actor: Actor, agreement_id: uuid.UUID) -> AgreementPublic:
    """Ends an agreement in force now; its period stays on record and cannot be reopened."""
    agreement = await _party_agreement(session, actor, agreement_id)
    enforce(may_end_agreement(actor.principal, agreement))
    if _status(agreement, actor.now) is AgreementStatus.ENDED:
        raise Conflict("the agreement has already ended; an ended agreement cannot be reopened", field="id")
    if actor.now <= agreement.valid_from:
        raise Conflict("the agreement has not come into force yet; withdraw it instead", field="id")
    before = await _agreement_public(session, agreement, actor.now)
    agreement.valid_until = actor.now
    await session.flush()
    ended = await _agreement_public(session, agreement, actor.now)
    await record_event(
        session,
        actor=actor,
        action="agreement.end",
        before=before.model_dump(mode="json"),
        after=ended.model_dump(mode="json"),
    )
    await release_unreadable(session, actor=actor, agency_ids=[agreement.grantee_agency_id])
    return ended


async def withdraw_agreement(
    session: AsyncSession, *, actor: Actor, agreement_id: uuid.UUID
) -> AgreementPublic:
    """Deletes an agreement that never came into force; one that did can only be ended."""
    agreement = await _party_agreement(session, actor, agreement_id)
    enforce(may_end_agreement(actor.principal, agreement))
    if actor.now > agreement.valid_from:
        raise Conflict(
            "the agreement has come into force; end it instead, so its period stays on record", field="id"
        )
    before = await _agreement_public(session, agreement, actor.now)
    await session.delete(agreement)
    await session.flush()
    await record_event(
        session, actor=actor, action="agreement.withdraw", before=before.model_dump(mode="json")
    )
    return before


# Grants on a record


async def _grants_public(
    session: AsyncSession, grants: list[RecordGrant], now: datetime
) -> list[GrantPublic]:
    codes = await agency_codes(session)
    logins = await user_logins(
        session,
        {g.user_id for g in grants if g.user_id} | {g.granted_by_id for g in grants if g.granted_by_id},
    )
    return [
        GrantPublic(
            id=g.id,
            record_id=g.record_id,
            agency=codes.get(g.agency_id) if g.agency_id else None,
            user=logins.get(g.user_id) if g.user_id else None,
            expires_at=g.expires_at,
            reason=g.reason,
            granted_by=logins.get(g.granted_by_id) if g.granted_by_id else None,
            created_at=g.created_at,
            active=g.expires_at is None or g.expires_at > now,
        )
        for g in grants
    ]


async def _readable(session: AsyncSession, actor: Actor, record_id: uuid.UUID) -> Record:
    """Through the visibility rule: unreadable and missing records answer alike."""
    record = await readable_record(session, actor.principal, actor.now, record_id)
    if record is None:
        raise NotFound("record")
    return record


async def list_grants(session: AsyncSession, *, actor: Actor, record_id: uuid.UUID) -> list[GrantPublic]:
    record = await _readable(session, actor, record_id)
    return await _grants_public(session, await repository.grants_of(session, record.id), actor.now)


async def page_grants(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID, first: int, after: str | None
) -> Page[GrantPublic]:
    """The same grants as ``list_grants``, newest first, a page at a time."""
    record = await _readable(session, actor, record_id)
    return await entity_page(
        session,
        repository.grants_on(record.id),
        first=first,
        after=after,
        order=repository.GRANT_ORDER,
        convert=lambda grants: _grants_public(session, grants, actor.now),
    )


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise InvalidInput("must be in the future", field="expires_at")
    if expires_at > now + LONGEST_GRANT:
        raise InvalidInput("may be at most 365 days ahead", field="expires_at")


async def _grantee(
    session: AsyncSession, record: Record, data: GrantCreate
) -> tuple[str, uuid.UUID | None, uuid.UUID | None]:
    """The input field naming the grantee, and the grantee's agency id or user id.

    Refuses a grant that could never take effect: a NOHOST record to a host-nation
    agency or one of its users (it would only look like an attempt to leak it).
    """
    if (data.agency is None) == (data.user is None):
        raise InvalidInput("name exactly one grantee: an agency or a user", field="agency")
    user_id: uuid.UUID | None = None
    if data.agency is not None:
        field, agency = "agency", await _agency(session, data.agency, "agency")
    else:
        assert data.user is not None
        found = await repository.user_by_login(session, data.user)
        if found is None or not found[0].active:
            raise InvalidInput(f"unknown user login: {data.user}", field="user")
        if found[1] is None:
            raise InvalidInput("installation administrators read no agency's records", field="user")
        field, agency, user_id = "user", found[1], found[0].id
    if record.nohost and agency.host_nation:
        raise InvalidInput(
            f"the record is NOHOST: {agency.code} is a host-nation agency and may never read it", field=field
        )
    return field, (agency.id if user_id is None else None), user_id


async def create_grant(
    session: AsyncSession, *, actor: Actor, record_id: uuid.UUID, data: GrantCreate
) -> GrantPublic:
    record = await _readable(session, actor, record_id)
    enforce(may_widen(actor.principal, record))
    _check_expiry(data.expires_at, actor.now)
    field, agency_id, user_id = await _grantee(session, record, data)
    existing = await repository.active_grant(
        session, record.id, agency_id=agency_id, user_id=user_id, now=actor.now
    )
    if existing is not None:
        raise Conflict("already granted and not yet expired; revoke that grant first", field=field)
    grant = RecordGrant(
        record_id=record.id,
        agency_id=agency_id,
        user_id=user_id,
        expires_at=data.expires_at,
        reason=data.reason,
        granted_by_id=actor.principal.user_id,
        created_at=actor.now,
    )
    session.add(grant)
    await session.flush()
    created = (await _grants_public(session, [grant], actor.now))[0]
    await record_event(
        session,
        actor=actor,
        action="grant.create",
        record_kind=record.kind,
        record_id=record.id,
        after=created.model_dump(mode="json"),
    )
    return created


async def revoke_grant(session: AsyncSession, *, actor: Actor, grant_id: uuid.UUID) -> GrantPublic:
    """Deletes the grant; the next read is decided without it."""
    grant = await repository.grant_by_id(session, grant_id)
    record = await readable_record(session, actor.principal, actor.now, grant.record_id) if grant else None
    if grant is None or record is None:
        raise NotFound("grant")
    enforce(may_edit(actor.principal, record))
    before = (await _grants_public(session, [grant], actor.now))[0]
    await session.delete(grant)
    await session.flush()
    await record_event(
        session,
        actor=actor,
        action="grant.revoke",
        record_kind=record.kind,
        record_id=record.id,
        before=before.model_dump(mode="json"),
    )
    await release_unreadable(session, actor=actor, record_ids=[record.id])
    return before
