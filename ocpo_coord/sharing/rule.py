"""The sharing rule, written once as a tree of small conditions.

Each condition has two faces: ``sql`` (a predicate on a ``record`` row, for lists,
counts and lookups filtered in the database) and ``holds`` (the same test on one
record's facts in memory). The tree that combines them — ``READ_RULE`` below — is the
rule; it exists in one place only. The property test in tests/test_sharing_rule.py
checks that both faces agree on random worlds, on SQLite and PostgreSQL.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, true
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import CaseMember, Record, RecordGrant, RecordRelease, SharingAgreement
from ocpo_coord.models.enums import Tlp


@dataclass(frozen=True, slots=True)
class Reader:
    principal: Principal
    now: datetime


@dataclass(slots=True)
class RecordFacts:
    """What the rule may look at for one record: the row and the rows that point at it."""

    record: Record
    releases: list[RecordRelease] = field(default_factory=list)
    grants: list[RecordGrant] = field(default_factory=list)
    # Members of the restricted case the record is, or hangs off.
    restricted_members: set[uuid.UUID] = field(default_factory=set)
    # Agreements granted by the record's owner agency.
    agreements: list[SharingAgreement] = field(default_factory=list)


class Condition(Protocol):
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]: ...

    def holds(self, facts: RecordFacts, reader: Reader) -> bool: ...


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return and_(*(p.sql(rec, reader) for p in self.parts))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return all(p.holds(facts, reader) for p in self.parts)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return or_(*(p.sql(rec, reader) for p in self.parts))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return any(p.holds(facts, reader) for p in self.parts)


@dataclass(frozen=True)
class TlpIn:
    levels: tuple[Tlp, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return col(rec.tlp).in_([level.value for level in self.levels])

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return Tlp(facts.record.tlp) in self.levels


class ReadsAgencyData:
    """Installation administrators operate the server; they read no agency's data."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return true() if reader.principal.reads_agency_data else false()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return reader.principal.reads_agency_data


class WithinClearance:
    """Nothing above the reader's clearance, whatever else is true."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return col(rec.classification) <= int(reader.principal.clearance)

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return int(facts.record.classification) <= int(reader.principal.clearance)


class NoHostRespected:
    """NOHOST: never visible to a host-nation agency."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return not_(col(rec.nohost)) if reader.principal.host_nation else true()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return not (facts.record.nohost and reader.principal.host_nation)


class RestrictedToMembers:
    """A restricted case, and what hangs off it, is for its named members only."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        member = exists().where(
            col(CaseMember.case_id) == rec.restricted_case_id,
            col(CaseMember.user_id) == reader.principal.user_id,
        )
        return or_(col(rec.restricted_case_id).is_(None), member)

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.restricted_case_id is None or reader.principal.user_id in facts.restricted_members


class HeldByReaderAgency:
    """The reader's agency originated, holds or owns it."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        agency = reader.principal.agency_id
        return or_(
            col(rec.owner_agency_id) == agency,
            col(rec.custodian_agency_id) == agency,
            col(rec.originator_agency_id) == agency,
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        r = facts.record
        return reader.principal.agency_id in (
            r.owner_agency_id,
            r.custodian_agency_id,
            r.originator_agency_id,
        )


class CreatedByReader:
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return col(rec.created_by_id) == reader.principal.user_id

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.created_by_id == reader.principal.user_id


class NamedReader:
    """TLP:RED names individuals in the release list."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(RecordRelease.record_id) == rec.id,
            col(RecordRelease.user_id) == reader.principal.user_id,
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return any(r.user_id == reader.principal.user_id for r in facts.releases)


class ReleasedToReaderAgency:
    """Released to the reader's agency, directly or through a sharing group it is in."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        targets = [col(RecordRelease.agency_id) == reader.principal.agency_id]
        if reader.principal.sharing_group_ids:
            targets.append(col(RecordRelease.sharing_group_id).in_(reader.principal.sharing_group_ids))
        return exists().where(col(RecordRelease.record_id) == rec.id, or_(*targets))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        p = reader.principal
        return any(
            (r.agency_id is not None and r.agency_id == p.agency_id)
            or (r.sharing_group_id is not None and r.sharing_group_id in p.sharing_group_ids)
            for r in facts.releases
        )


class InReaderTheatre:
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        theatres = reader.principal.theatre_ids
        return col(rec.theatre_id).in_(theatres) if theatres else false()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.theatre_id is not None and facts.record.theatre_id in reader.principal.theatre_ids


class NotOrcon:
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return not_(col(rec.orcon))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return not facts.record.orcon


class AgreementInForce:
    """A sharing agreement from the owner to the reader's agency, valid now, covering
    the record's classification."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(SharingAgreement.grantor_agency_id) == rec.owner_agency_id,
            col(SharingAgreement.grantee_agency_id) == reader.principal.agency_id,
            col(SharingAgreement.valid_from) <= reader.now,
            col(SharingAgreement.valid_until) > reader.now,
            col(SharingAgreement.max_classification) >= rec.classification,
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        r = facts.record
        return any(
            a.grantor_agency_id == r.owner_agency_id
            and a.grantee_agency_id == reader.principal.agency_id
            and a.valid_from <= reader.now < a.valid_until
            and int(a.max_classification) >= int(r.classification)
            for a in facts.agreements
        )


class GrantInForce:
    """The owner granted the reader or the reader's agency access, not yet expired."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(RecordGrant.record_id) == rec.id,
            or_(
                col(RecordGrant.user_id) == reader.principal.user_id,
                col(RecordGrant.agency_id) == reader.principal.agency_id,
            ),
            or_(col(RecordGrant.expires_at).is_(None), col(RecordGrant.expires_at) > reader.now),
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        p = reader.principal
        return any(
            (g.user_id == p.user_id or (g.agency_id is not None and g.agency_id == p.agency_id))
            and (g.expires_at is None or g.expires_at > reader.now)
            for g in facts.grants
        )


_RED = (Tlp.RED,)
_NOT_RED = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)

# Default deny: every restriction must pass, and at least one reason to release.
READ_RULE = All(
    (
        ReadsAgencyData(),
        WithinClearance(),
        NoHostRespected(),
        RestrictedToMembers(),
        AnyOf(
            (
                TlpIn((Tlp.CLEAR,)),
                All((TlpIn(_NOT_RED), HeldByReaderAgency())),
                All((TlpIn(_RED), AnyOf((CreatedByReader(), NamedReader())))),
                All((TlpIn((Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)), ReleasedToReaderAgency())),
                All((TlpIn((Tlp.GREEN,)), InReaderTheatre())),
                # An agreement sets defaults; it never overrides a stricter marking.
                All((TlpIn((Tlp.GREEN, Tlp.AMBER)), NotOrcon(), AgreementInForce())),
                GrantInForce(),
            )
        ),
    )
)
