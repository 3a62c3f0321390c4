"""The sharing rule, written once as a tree of small conditions.

Each condition has two faces: ``sql`` (a predicate on a ``record`` row, for lists,
counts and lookups filtered in the database) and ``holds`` (the same test on one
record's facts in memory). The tree that combines them — ``READ_RULE`` below — is the
rule; it exists in one place only. The property test in tests/visibility/test_rule_agrees_with_sql.py
checks that both faces agree on random worlds, on SQLite and PostgreSQL.

A third face, ``reach``, names the reader scopes (everyone, an agency, a user, a
sharing group, a theatre, the grantees of an owner's agreements) that could possibly
satisfy the condition for one record. It feeds the visibility index
(``visibility/reach.py``), which only decides which rows a list page looks at: a
reader must hold one of a record's scopes *and* pass the rule itself, so a scope too
many costs a wasted look, never a leak. The property test checks that the reach of
every record a reader may read includes one of that reader's scopes.

A fourth, ``settles``, names the scopes whose every holder passes the condition, at
any instant: a subset of ``reach``'s, where ``reach`` is a superset. A walk of a
scope enforces what the scope cannot say (the ceiling of the reader's clearance and
agreements, NOHOST for a host nation), and a reader holds an agreement's scope only
while it is in force; so a count may take an index entry whose scope settles the
record as readable without asking the rule (``visibility/reach.py``). Time-bound
grants settle nothing: holding their scope says nothing about the expiry. The
property test checks that every holder of a settled scope may read the record.
"""

import functools
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, exists, false, not_, or_, true
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import CaseMember, RecordGrant, RecordRelease, SharingAgreement
from ocpo_coord.models.enums import Tlp
from ocpo_coord.visibility.scopes import EVERYONE, NOBODY, Reach, ScopeKind, all_of, any_of, common_to, scopes


def one_of(column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column`` equals one of a few ``values``, written out as ``=`` terms.

    Not ``IN``: SQLAlchemy renders an IN list again at every execution (one parameter
    per value), and every statement that carries the rule would pay for it; equality
    terms are compiled once with the rest of the tree and cached. No values: false, never
    an empty OR, which SQLAlchemy would drop from the condition."""
    return or_(*(column == value for value in values)) if values else false()


class ClockNeeded(Exception):
    """A condition asked a reader without an instant for the time."""


# The parameter that carries the instant into a rule written before it is known (see
# ``Reader.deferred``); a statement that holds it cannot run without it.
INSTANT = "reader_instant"


@dataclass(frozen=True, slots=True)
class Reader:
    principal: Principal
    instant: datetime | None
    # The rule's SQL leaves the instant to the statement's ``INSTANT`` parameter, given
    # each time it runs: one tree, and one statement built on it, serve every request
    # of the reader (``visibility.readable_template``).
    deferred: bool = False

    @property
    def now(self) -> datetime:
        if self.instant is None:
            raise ClockNeeded
        return self.instant

    def clock(self) -> datetime | BindParameter[datetime]:
        """The instant as SQL compares with it: a value, or the required parameter."""
        if self.deferred:
            parameter: BindParameter[datetime] = bindparam(INSTANT, required=True)
            return parameter
        return self.now


def part_sql(condition: "Condition", rec: Any, reader: Reader) -> ColumnElement[bool]:
    """``condition.sql(rec, reader)``, built once per reader when it does not depend on
    the instant.

    Building the rule's expression costs milliseconds, and most of it (the reader's
    agency, groups, theatres, clearance) is the same on every request of the same
    reader. Whether a part depends on the instant is found out, not declared: it is
    first built for a reader without one, and a part that asks for the time is
    rebuilt on every call. A new condition that reads the clock therefore can never
    be served a tree built at another instant.

    A deferred reader (``Reader.deferred``) builds the whole tree once per principal:
    its instant is the statement's parameter. So a condition's SQL reads the time only
    through ``reader.clock()``; ``reader.now`` there would raise ``ClockNeeded`` for
    every list page (and fail the property test).
    """
    if reader.deferred:
        return _deferred_sql(condition, rec, reader.principal)
    timeless = _timeless_sql(condition, rec, reader.principal)
    return timeless if timeless is not None else condition.sql(rec, reader)


@functools.lru_cache(maxsize=4096)
def _timeless_sql(condition: "Condition", rec: Any, principal: Principal) -> ColumnElement[bool] | None:
    try:
        return condition.sql(rec, Reader(principal, None))
    except ClockNeeded:
        return None


@functools.lru_cache(maxsize=4096)
def _deferred_sql(condition: "Condition", rec: Any, principal: Principal) -> ColumnElement[bool]:
    return condition.sql(rec, Reader(principal, None, deferred=True))


class RecordView(Protocol):
    """The columns of a record the rule and its index read: a mapped ``Record``, or a
    ``RecordRow`` read in bulk."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def originator_agency_id(self) -> uuid.UUID: ...
    @property
    def custodian_agency_id(self) -> uuid.UUID: ...
    @property
    def owner_agency_id(self) -> uuid.UUID: ...
    @property
    def created_by_id(self) -> uuid.UUID | None: ...
    @property
    def theatre_id(self) -> uuid.UUID | None: ...
    @property
    def parent_id(self) -> uuid.UUID | None: ...
    @property
    def restricted_case_id(self) -> uuid.UUID | None: ...
    @property
    def classification(self) -> int: ...
    @property
    def tlp(self) -> str: ...
    @property
    def orcon(self) -> bool: ...
    @property
    def nohost(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...


class ReleaseView(Protocol):
    """Whom a release names: a mapped ``RecordRelease``, or a ``ReleaseRow``."""

    @property
    def agency_id(self) -> uuid.UUID | None: ...
    @property
    def sharing_group_id(self) -> uuid.UUID | None: ...
    @property
    def user_id(self) -> uuid.UUID | None: ...


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record's columns as bulk upkeep of the index reads them: the index of a batch
    of records is derived without a mapped object per record and per release."""

    id: uuid.UUID
    kind: str
    originator_agency_id: uuid.UUID
    custodian_agency_id: uuid.UUID
    owner_agency_id: uuid.UUID
    created_by_id: uuid.UUID | None
    theatre_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    restricted_case_id: uuid.UUID | None
    classification: int
    tlp: str
    orcon: bool
    nohost: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    agency_id: uuid.UUID | None
    sharing_group_id: uuid.UUID | None
    user_id: uuid.UUID | None


@dataclass(slots=True)
class RecordFacts:
    """What the rule may look at for one record: the row and the rows that point at it."""

    record: RecordView
    releases: list[ReleaseView] = field(default_factory=list)
    grants: list[RecordGrant] = field(default_factory=list)
    # Members of the restricted case the record is, or hangs off.
    restricted_members: set[uuid.UUID] = field(default_factory=set)
    # Agreements granted by the record's owner agency.
    agreements: list[SharingAgreement] = field(default_factory=list)


class Condition(Hashable, Protocol):
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]: ...

    def holds(self, facts: RecordFacts, reader: Reader) -> bool: ...

    def reach(self, facts: RecordFacts) -> Reach: ...

    def settles(self, facts: RecordFacts) -> Reach: ...


class ScopeDecides:
    """A condition that every holder of a scope of its ``reach`` passes: the scope
    decides, so the scopes that settle it are the scopes that reach it."""

    def reach(self, facts: RecordFacts) -> Reach:
        raise NotImplementedError

    def settles(self, facts: RecordFacts) -> Reach:
        return self.reach(facts)


class Unnarrowed(ScopeDecides):
    """A condition on the reader alone, or one every scope may pass: it names nobody.

    Each settles for every scope only because a walk cannot offer a reader what it
    refuses: readers who read no agency data hold no scope (``held_by``), every
    scope's ceiling is at most the reader's clearance, and a host nation's walks skip
    NOHOST rows (``visibility/pages.py``)."""

    def reach(self, facts: RecordFacts) -> Reach:
        return EVERYONE


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return and_(*(part_sql(p, rec, reader) for p in self.parts))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return all(p.holds(facts, reader) for p in self.parts)

    def reach(self, facts: RecordFacts) -> Reach:
        return all_of(p.reach(facts) for p in self.parts)

    def settles(self, facts: RecordFacts) -> Reach:
        return common_to(p.settles(facts) for p in self.parts)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return or_(*(part_sql(p, rec, reader) for p in self.parts))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return any(p.holds(facts, reader) for p in self.parts)

    def reach(self, facts: RecordFacts) -> Reach:
        return any_of(p.reach(facts) for p in self.parts)

    def settles(self, facts: RecordFacts) -> Reach:
        return any_of(p.settles(facts) for p in self.parts)


@dataclass(frozen=True)
class TlpIn(ScopeDecides):
    levels: tuple[Tlp, ...]

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return one_of(col(rec.tlp), [level.value for level in self.levels])

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return Tlp(facts.record.tlp) in self.levels

    def reach(self, facts: RecordFacts) -> Reach:
        return EVERYONE if Tlp(facts.record.tlp) in self.levels else NOBODY


class ReadsAgencyData(Unnarrowed):
    """Installation administrators operate the server; they read no agency's data."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return true() if reader.principal.reads_agency_data else false()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return reader.principal.reads_agency_data


class WithinClearance(Unnarrowed):
    """Nothing above the reader's clearance, whatever else is true."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return col(rec.classification) <= int(reader.principal.clearance)

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return int(facts.record.classification) <= int(reader.principal.clearance)


class NoHostRespected(Unnarrowed):
    """NOHOST: never visible to a host-nation agency."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return not_(col(rec.nohost)) if reader.principal.host_nation else true()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return not (facts.record.nohost and reader.principal.host_nation)


class RestrictedToMembers(ScopeDecides):
    """A restricted case, and what hangs off it, is for its named members only."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        member = exists().where(
            col(CaseMember.case_id) == rec.restricted_case_id,
            col(CaseMember.user_id) == reader.principal.user_id,
        )
        return or_(col(rec.restricted_case_id).is_(None), member)

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.restricted_case_id is None or reader.principal.user_id in facts.restricted_members

    def reach(self, facts: RecordFacts) -> Reach:
        if facts.record.restricted_case_id is None:
            return EVERYONE
        return scopes(ScopeKind.USER, facts.restricted_members)


class HeldByReaderAgency(ScopeDecides):
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

    def reach(self, facts: RecordFacts) -> Reach:
        r = facts.record
        return scopes(ScopeKind.AGENCY, (r.owner_agency_id, r.custodian_agency_id, r.originator_agency_id))


class CreatedByReader(ScopeDecides):
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return col(rec.created_by_id) == reader.principal.user_id

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.created_by_id == reader.principal.user_id

    def reach(self, facts: RecordFacts) -> Reach:
        return scopes(ScopeKind.USER, [facts.record.created_by_id])


class NamedReader(ScopeDecides):
    """TLP:RED names individuals in the release list."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(RecordRelease.record_id) == rec.id,
            col(RecordRelease.user_id) == reader.principal.user_id,
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return any(r.user_id == reader.principal.user_id for r in facts.releases)

    def reach(self, facts: RecordFacts) -> Reach:
        return scopes(ScopeKind.USER, (r.user_id for r in facts.releases))


class ReleasedToReaderAgency(ScopeDecides):
    """Released to the reader's agency, directly or through a sharing group it is in."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        targets = [col(RecordRelease.agency_id) == reader.principal.agency_id]
        if reader.principal.sharing_group_ids:
            targets.append(
                one_of(col(RecordRelease.sharing_group_id), sorted(reader.principal.sharing_group_ids))
            )
        return exists().where(col(RecordRelease.record_id) == rec.id, or_(*targets))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        p = reader.principal
        return any(
            (r.agency_id is not None and r.agency_id == p.agency_id)
            or (r.sharing_group_id is not None and r.sharing_group_id in p.sharing_group_ids)
            for r in facts.releases
        )

    def reach(self, facts: RecordFacts) -> Reach:
        return scopes(ScopeKind.AGENCY, (r.agency_id for r in facts.releases)) | scopes(
            ScopeKind.GROUP, (r.sharing_group_id for r in facts.releases)
        )


class InReaderTheatre(ScopeDecides):
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        theatres = reader.principal.theatre_ids
        return one_of(col(rec.theatre_id), sorted(theatres)) if theatres else false()

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return facts.record.theatre_id is not None and facts.record.theatre_id in reader.principal.theatre_ids

    def reach(self, facts: RecordFacts) -> Reach:
        return scopes(ScopeKind.THEATRE, [facts.record.theatre_id])


class NotOrcon(ScopeDecides):
    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return not_(col(rec.orcon))

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        return not facts.record.orcon

    def reach(self, facts: RecordFacts) -> Reach:
        return NOBODY if facts.record.orcon else EVERYONE


class AgreementInForce(ScopeDecides):
    """A sharing agreement from the owner to the reader's agency, valid now, covering
    the record's classification."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(SharingAgreement.grantor_agency_id) == rec.owner_agency_id,
            col(SharingAgreement.grantee_agency_id) == reader.principal.agency_id,
            col(SharingAgreement.valid_from) <= reader.clock(),
            col(SharingAgreement.valid_until) > reader.clock(),
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

    def reach(self, facts: RecordFacts) -> Reach:
        # It settles too: a reader holds this scope only while an agreement naming
        # their agency is in force, with the highest such agreement's ceiling.
        # Agreements come and go without touching the owner's records: the scope is
        # "grantees of this owner", and a reader holds it for every owner that has an
        # agreement naming the reader's agency, whatever its period (the rule checks it).
        return scopes(ScopeKind.AGREEMENTS_OF, [facts.record.owner_agency_id])


class GrantInForce(ScopeDecides):
    """The owner granted the reader or the reader's agency access, not yet expired."""

    def sql(self, rec: Any, reader: Reader) -> ColumnElement[bool]:
        return exists().where(
            col(RecordGrant.record_id) == rec.id,
            or_(
                col(RecordGrant.user_id) == reader.principal.user_id,
                col(RecordGrant.agency_id) == reader.principal.agency_id,
            ),
            or_(col(RecordGrant.expires_at).is_(None), col(RecordGrant.expires_at) > reader.clock()),
        )

    def holds(self, facts: RecordFacts, reader: Reader) -> bool:
        p = reader.principal
        return any(
            (g.user_id == p.user_id or (g.agency_id is not None and g.agency_id == p.agency_id))
            and (g.expires_at is None or g.expires_at > reader.now)
            for g in facts.grants
        )

    def reach(self, facts: RecordFacts) -> Reach:
        # Expired grants keep their scope until the record is next written: harmless,
        # since the rule refuses them, and it spares a sweep when each one lapses.
        return scopes(ScopeKind.USER, (g.user_id for g in facts.grants)) | scopes(
            ScopeKind.AGENCY, (g.agency_id for g in facts.grants)
        )

    def settles(self, facts: RecordFacts) -> Reach:
        # Only a grant without an expiry: one that lapses keeps its scope (see above).
        lasting = [g for g in facts.grants if g.expires_at is None]
        return scopes(ScopeKind.USER, (g.user_id for g in lasting)) | scopes(
            ScopeKind.AGENCY, (g.agency_id for g in lasting)
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
