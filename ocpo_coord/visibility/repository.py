"""Queries shared by every shareable aggregate. Reads always start from the rule:
``readable``, or ``readable_template`` for the statements list pages keep."""

import functools
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select, SelectOfScalar

from ocpo_coord.auth.directory import agency_codes as agency_codes
from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, execute
from ocpo_coord.db.sql_json import json_rows, parsed_rows
from ocpo_coord.models import Agency, Record, RecordRelease, SharingGroup, SharingGroupMember, User
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.readable import at_instant, readable, readable_template


class RecordTable(Protocol):
    """A shareable aggregate's table: its primary key is its ``record`` row's id."""

    id: uuid.UUID


M = TypeVar("M", bound=RecordTable)


class RecordRepository(Generic[M]):
    """Readable rows of one aggregate, each paired with its ``record`` markings row."""

    def __init__(
        self,
        session: AsyncSession,
        model: type[M],
        kind: RecordKind,
        *,
        principal: Principal,
        now: datetime,
    ) -> None:
        self.session = session
        self.model = model
        self.kind = kind
        self.principal = principal
        self.now = now

    def readable_statement(self) -> Select[M, Record]:
        return _rows(self.model, self.kind, readable(self.principal, now=self.now))

    def listing_statement(self) -> Select[M, Record]:
        """The readable rows as list pages read them: one statement per reader and kind,
        kept, and run with ``at_instant`` (see ``readable_template``)."""
        return _listing(self.model, self.kind, self.principal, self.page_columns())

    def page_columns(self) -> tuple[Any, ...]:
        """Labelled columns this kind's list pages bring beside each row instead of asking
        afterwards (see ``page_rows_known``), kept with the reader's listing statement:
        the same objects on every call for a reader."""
        return ()

    async def get(self, record_id: uuid.UUID) -> tuple[M, Record] | None:
        statement = self.readable_statement().where(col(Record.id) == record_id)
        row = (await self.session.exec(statement)).first()
        return (row[0], row[1]) if row is not None else None

    async def get_many(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[M, Record]]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        statement = self.readable_statement().where(among(self.session, col(Record.id), wanted))
        rows = (await self.session.exec(statement)).all()
        return {row[1].id: (row[0], row[1]) for row in rows}

    async def get_for_update(self, record_id: uuid.UUID) -> tuple[M, Record] | None:
        statement = self.readable_statement().where(col(Record.id) == record_id)
        if self.session.get_bind().dialect.name == "postgresql":
            # FOR NO KEY UPDATE: a record's key never changes, and the KEY SHARE lock a
            # child row's foreign key takes (a note on the case, in the same request or
            # another) must not wait for it, nor it for them: writers that touched the
            # record both ways would otherwise deadlock.
            statement = statement.with_for_update(of=Record, key_share=True)
        row = (await self.session.exec(statement)).first()
        return (row[0], row[1]) if row is not None else None


def _rows(model: type[M], kind: RecordKind, rule: ColumnElement[bool]) -> Select[M, Record]:
    return (
        select(model, Record)
        .join(Record, col(Record.id) == col(model.id))
        .where(col(Record.kind) == kind.value)
        .where(rule)
    )


# The listing statements kept: only these may be paged as a reader's whole set of
# records of a kind (``is_listing``).
_LISTINGS: "weakref.WeakSet[Select[Any, Record]]" = weakref.WeakSet()


@functools.lru_cache(maxsize=256)
def _listing(
    model: type[M], kind: RecordKind, principal: Principal, columns: tuple[Any, ...]
) -> Select[M, Record]:
    statement = _rows(model, kind, readable_template(principal))
    if columns:
        statement = statement.add_columns(*columns)  # type: ignore[assignment]
    _LISTINGS.add(statement)
    return statement


def is_listing(statement: Any) -> bool:
    """Whether ``statement`` is a reader's kept listing statement, not narrowed."""
    return statement in _LISTINGS


@functools.lru_cache(maxsize=256)
def counted_ids(principal: Principal) -> SelectOfScalar[uuid.UUID]:
    """The ids of the records the reader may read, as unfiltered lists count them among
    the candidates of one kind that the index walk found (``visibility/pages.py``).

    The ``record`` rows alone: every record of a kind has its row in the kind's table
    (both are written together, and neither is ever deleted), so joining that table, as
    the listing does, would only cost a lookup per record counted. And no test of the
    kind, which the walk has chosen: with one, SQLite read the kind's whole index for
    the few candidates instead of looking each one up. Kept like ``_listing``, and run
    with ``at_instant``."""
    return select(col(Record.id)).where(readable_template(principal))


async def agency_ids_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, uuid.UUID]:
    wanted = sorted({c.upper() for c in codes})
    if not wanted:
        return {}
    rows = (
        await session.exec(select(Agency.code, Agency.id).where(among(session, col(Agency.code), wanted)))
    ).all()
    return dict(rows)


async def user_ids_by_login(session: AsyncSession, logins: Iterable[str]) -> dict[str, uuid.UUID]:
    wanted = sorted(set(logins))
    if not wanted:
        return {}
    rows = (
        await session.exec(select(User.login, User.id).where(among(session, col(User.login), wanted)))
    ).all()
    return dict(rows)


_RELEASE_RECORD = col(RecordRelease.record_id)
_RELEASE_TARGETS = (
    col(RecordRelease.agency_id),
    col(RecordRelease.sharing_group_id),
    col(RecordRelease.user_id),
)


def releases_column() -> Any:
    """A record's releases (agency, sharing group, user) as one ``json_rows`` column of
    a statement over ``record``: a list page brings them with its rows, a round trip
    fewer (see ``page_rows_known``)."""
    return (
        select(json_rows(*_RELEASE_TARGETS))
        .where(col(Record.id) == _RELEASE_RECORD)
        .scalar_subquery()
        .label("releases")
    )


@dataclass(frozen=True, slots=True)
class Release:
    """Whom a record is released to, as pages and markings read it: an agency, a
    sharing group or a user. A plain value, not a mapped row: a page builds dozens, and
    an ORM object costs a hundred times more to make."""

    record_id: uuid.UUID
    agency_id: uuid.UUID | None
    sharing_group_id: uuid.UUID | None
    user_id: uuid.UUID | None


# A page's releases name the same few agencies, groups and people again and again, and
# parsing a UUID's text is slow in Python; UUIDs are immutable, so one may be shared.
_parsed_uuid = functools.lru_cache(maxsize=4096)(uuid.UUID)


def parsed_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from a ``json_rows`` value: text with dashes (PostgreSQL) or without (SQLite)."""
    return _parsed_uuid(value) if value else None


def parsed_releases(record_id: uuid.UUID, text: str | None) -> list[Release]:
    """The releases of a ``releases_column`` value."""
    return [
        Release(record_id, parsed_uuid(a), parsed_uuid(g), parsed_uuid(u)) for a, g, u in parsed_rows(text)
    ]


_KNOWN_ROWS = "records.known_rows"
_ABSENT = object()


@contextmanager
def page_rows_known(session: AsyncSession, rows: dict[uuid.UUID, Any]) -> Iterator[None]:
    """While a page is assembled, its rows by record id, with the columns they brought
    beside the kind's row and record (``releases_column``, a kind's ``page_columns``):
    ``releases_for`` and the kinds' lookups answer from them (``known_column``) instead
    of asking. Only for that span: assembling writes nothing, and after it the session
    may change what these rows show. A page assembled inside another adds its rows."""
    outer = session.info.get(_KNOWN_ROWS)
    session.info[_KNOWN_ROWS] = rows if outer is None else {**outer, **rows}
    try:
        yield
    finally:
        if outer is None:
            session.info.pop(_KNOWN_ROWS, None)
        else:
            session.info[_KNOWN_ROWS] = outer


def known_column(
    session: AsyncSession, name: str, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Any] | None:
    """The page's ``name`` column for each of these records, or None unless every one of
    them is on the page being assembled with that column."""
    rows = session.info.get(_KNOWN_ROWS)
    if rows is None:
        return None
    found: dict[uuid.UUID, Any] = {}
    for record_id in record_ids:
        row = rows.get(record_id)
        if row is None:
            return None
        value = getattr(row, name, _ABSENT)
        if value is _ABSENT:
            return None
        found[record_id] = value
    return found


async def releases_for(
    session: AsyncSession, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Release]]:
    wanted = list(set(record_ids))
    grouped: dict[uuid.UUID, list[Release]] = defaultdict(list)
    if not wanted:
        return grouped
    known = known_column(session, "releases", wanted)
    if known is not None:
        for record_id, text in known.items():
            grouped[record_id] = parsed_releases(record_id, text)
        return grouped
    columns = (_RELEASE_RECORD, *_RELEASE_TARGETS)
    statement = select(*columns).where(among(session, _RELEASE_RECORD, wanted))
    for record_id, agency_id, group_id, user_id in (await execute(session, statement)).all():
        grouped[record_id].append(Release(record_id, agency_id, group_id, user_id))
    return grouped


async def released_to_agency(
    session: AsyncSession, record_ids: Iterable[uuid.UUID], agency_id: uuid.UUID
) -> set[uuid.UUID]:
    """Which of ``record_ids`` are already released to the agency."""
    wanted = list(set(record_ids))
    if not wanted:
        return set()
    statement = select(RecordRelease.record_id).where(
        among(session, col(RecordRelease.record_id), wanted), RecordRelease.agency_id == agency_id
    )
    return set((await session.exec(statement)).all())


async def replace_releases(
    session: AsyncSession, record_id: uuid.UUID, releases: list[RecordRelease]
) -> None:
    existing = (await session.exec(select(RecordRelease).where(RecordRelease.record_id == record_id))).all()
    for release in existing:
        await session.delete(release)
    await session.flush()
    session.add_all(releases)


async def readable_record_ids(
    session: AsyncSession, principal: Principal, now: datetime, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``ids`` the principal may read, whatever their kind. The reader's kept
    rule (``readable_template``), given the instant as a parameter: building the rule
    afresh for each request's instant cost more than the lookup."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    statement = select(Record.id).where(among(session, col(Record.id), wanted), readable_template(principal))
    return set((await session.exec(statement, params=at_instant(now))).all())


async def readable_record_kinds(
    session: AsyncSession, principal: Principal, now: datetime, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """``readable_record_ids`` with each record's kind, in the same statement: a write
    that links records checks them and names their kinds in one round trip.

    A write names one record or a few: an IN list, one parameter per id, keeps one SQL
    text per count, and PostgreSQL then keeps a generic plan of the rule for it, where
    ``among``'s one array parameter had the rule planned afresh at every execution."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    statement = select(Record.id, Record.kind).where(
        among(session, col(Record.id), wanted), readable_template(principal)
    )
    return {
        record_id: str(kind)
        for record_id, kind in (await session.exec(statement, params=at_instant(now))).all()
    }


async def unreadable_records(
    session: AsyncSession, principal: Principal, now: datetime, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``ids`` name a record the principal may not read (ids that name no record
    are not in the answer), in one statement."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    statement = select(Record.id, readable(principal, now=now)).where(among(session, col(Record.id), wanted))
    return {record_id for record_id, may_read in (await session.exec(statement)).all() if not may_read}


async def readable_record(
    session: AsyncSession, principal: Principal, now: datetime, record_id: uuid.UUID
) -> Record | None:
    statement = select(Record).where(Record.id == record_id, readable(principal, now=now))
    return (await session.exec(statement)).first()


async def records_by_id(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Record]:
    """The record rows of these ids, for a service that already decided they may be
    read (or that writes them), a statement per 500: many records are never read back
    one by one."""
    wanted = sorted(set(ids))
    found: dict[uuid.UUID, Record] = {}
    for start in range(0, len(wanted), 500):
        statement = select(Record).where(among(session, col(Record.id), wanted[start : start + 500]))
        found.update((record.id, record) for record in (await session.exec(statement)).all())
    return found


async def record_kinds(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = (
        await session.exec(select(Record.id, Record.kind).where(among(session, col(Record.id), wanted)))
    ).all()
    return dict(rows)


async def usable_group_ids(
    session: AsyncSession, agency_id: uuid.UUID | None, wanted: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Of ``wanted``, the sharing groups the agency owns or is a member of."""
    if agency_id is None or not wanted:
        return set()
    owned = select(SharingGroup.id).where(
        among(session, col(SharingGroup.id), sorted(wanted)), SharingGroup.owner_agency_id == agency_id
    )
    member = select(SharingGroupMember.sharing_group_id).where(
        among(session, col(SharingGroupMember.sharing_group_id), sorted(wanted)),
        SharingGroupMember.agency_id == agency_id,
    )
    return set((await session.exec(owned)).all()) | set((await session.exec(member)).all())
