"""Pages of shareable records, newest first, found through the visibility index.

Pages are found through the visibility index (``record_reach``), so that a page
costs about the same for a reader who may see a few hundred records as for one who
may see millions, and does not grow with the database:

- an unfiltered list walks the index alone: for each scope the reader holds, the
  newest index entries within the reader's clearance (an index-only scan that stops
  after a page), merged newest first. Only those candidates meet the rule itself,
  which is what decides; candidates the rule refuses are rare (expired grants,
  agreements past their period or ceiling, children of unreadable cases), and the
  walk goes on from the last candidate until the page is full.
- a filtered list (status, text, a case's children...) hands the database one walk
  per scope with the rule and the filters inside, and lets the planner pick the
  filter's own index when it is narrower than the scope.
Either way the rule (``readable()``, or ``readable_template()`` with the instant given
at each run) is part of the query that returns the rows.
"""

import dataclasses
import functools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    not_,
    select,
    union,
    union_all,
)
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import Record, RecordReach
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.pagination import Assembler, Cursor, Cursors, Page, after_cursor, check_page_size
from ocpo_coord.visibility.readable import at_instant
from ocpo_coord.visibility.repository import (
    counted_ids,
    is_listing,
    page_rows_known,
    releases_column,
)
from ocpo_coord.visibility.scopes import Held, Scope, ScopeKind, held_scopes

T = TypeVar("T")
# The largest candidate batch: a run of refused candidates is read this many at a time.
_MAX_BATCH = 2000


def any_filter(filters: BaseModel) -> bool:
    """Whether a list's filter narrows it at all (every filter field defaults to None)."""
    return bool(filters.model_dump(exclude_none=True))


def _walk(
    statement: Select[*tuple[Any, ...]],
    scope: Scope,
    ceiling: int,
    kind: RecordKind,
    after: Cursor | None,
    limit: int,
) -> Subquery:
    """The first ``limit`` rows of the statement filed under one scope, in list order."""
    created, record_id = col(RecordReach.created_at), col(RecordReach.record_id)
    walk = statement.join(RecordReach, record_id == col(Record.id)).where(
        col(RecordReach.scope_kind) == int(scope[0]),
        col(RecordReach.scope_id) == scope[1],
        col(RecordReach.kind) == kind.value,
        col(RecordReach.classification) <= ceiling,
    )
    if after is not None:
        walk = walk.where(after_cursor(created, record_id, after.key, after.id))
    return (
        walk.with_only_columns(created, record_id, maintain_column_froms=True)
        .order_by(created.desc(), record_id.desc())
        .limit(limit)
        .subquery()
    )


def page_statement(
    statement: Select[*tuple[Any, ...]],
    held: Held,
    kind: RecordKind,
    *,
    after: Cursor | None,
    limit: int,
) -> Select[*tuple[Any, ...]]:
    """The statement's rows of one page: the newest ``limit`` of the scopes' walks."""
    walks = [_walk(statement, scope, ceiling, kind, after, limit) for scope, ceiling in held.items()]
    merged = union(*(select(w.c.created_at, w.c.record_id) for w in walks)).subquery()
    ids = (
        select(merged.c.created_at, merged.c.record_id)
        .order_by(merged.c.created_at.desc(), merged.c.record_id.desc())
        .limit(limit)
        .subquery()
    )
    return statement.join(ids, ids.c.record_id == col(Record.id)).order_by(
        ids.c.created_at.desc(), ids.c.record_id.desc()
    )


async def _walk_count(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    held: Held,
    kind: RecordKind,
    cap: int,
    instant: dict[str, datetime],
) -> tuple[int, bool]:
    """Count at most ``cap`` rows; the flag says the true figure may be larger."""
    walks = [_walk(statement, scope, ceiling, kind, None, cap + 1) for scope, ceiling in held.items()]
    merged = union(*(select(w.c.record_id) for w in walks)).subquery()
    limited = select(merged.c.record_id).limit(cap + 1).subquery()
    value = int((await execute(session, select(func.count()).select_from(limited), instant)).scalar_one())
    return min(value, cap), value > cap


def _scope_walk(
    i: int, host_nation: bool, paged: bool, batch: str, columns: list[Any], settled_only: bool = False
) -> Subquery:
    """The newest index entries of the reader's ``i``-th held scope, as a subquery
    whose values are all bound parameters (``_candidate_values``)."""
    created, record_id = col(RecordReach.created_at), col(RecordReach.record_id)
    walk = select(*columns).where(
        col(RecordReach.scope_kind) == bindparam(f"scope_kind_{i}"),
        col(RecordReach.scope_id) == bindparam(f"scope_id_{i}"),
        col(RecordReach.kind) == bindparam("kind"),
        col(RecordReach.classification) <= bindparam(f"ceiling_{i}"),
    )
    if host_nation:
        walk = walk.where(not_(col(RecordReach.nohost)))
    if settled_only:
        walk = walk.where(col(RecordReach.settled))
    if paged:
        walk = walk.where(after_cursor(created, record_id, bindparam("after_at"), bindparam("after_id")))
    return walk.order_by(created.desc(), record_id.desc()).limit(bindparam(batch, type_=Integer())).subquery()


@functools.lru_cache(maxsize=256)
def _candidate_shape(
    scopes: int,
    host_nation: bool,
    paged: bool,
    batch: str = "batch",
    settled: bool = False,
) -> Select[Any]:
    """The candidate query for a number of scopes, with every value a bound parameter;
    ``batch``: the name of the limit's parameter (a page and its count, in one
    statement, walk to different depths); ``settled``: with a third column, 1 where a
    held scope settles the rule for the candidate (``RecordReach.settled``), else 0.

    Built once per shape and reused: assembling a union of a dozen walks as
    SQLAlchemy expressions costs more than the database takes to run it."""
    created, record_id = col(RecordReach.created_at), col(RecordReach.record_id)
    flag = [cast(col(RecordReach.settled), Integer).label("settled")] if settled else []
    walks = [
        select(*_scope_walk(i, host_nation, paged, batch, [created, record_id, *flag]).c)
        for i in range(scopes)
    ]
    # UNION ALL and DISTINCT, not UNION: each walk comes in list order, so PostgreSQL
    # merges them (Merge Append) and drops a record filed under two scopes as it passes
    # (Unique), reading little more than the batch; UNION hashed every walk's rows and
    # sorted them all (the broad reader's 14 walks: 81 rows read instead of 628). With
    # the flag, GROUP BY in the same order does the same (a streaming GroupAggregate).
    merged = union_all(*walks).subquery()
    found = select(merged.c.created_at, merged.c.record_id)
    if settled:
        found = found.add_columns(func.max(merged.c.settled).label("settled")).group_by(
            merged.c.created_at, merged.c.record_id
        )
    else:
        found = found.distinct()
    return found.order_by(merged.c.created_at.desc(), merged.c.record_id.desc()).limit(
        bindparam(batch, type_=Integer())
    )


def _candidate_values(
    held: Held, kind: RecordKind, after: Cursor | None, limit: int, batch: str = "batch"
) -> dict[str, Any]:
    """The parameters of ``_candidate_shape`` for the newest ``limit`` index entries of
    the reader's scopes after ``after``."""
    values: dict[str, Any] = {"kind": kind.value, batch: limit}
    for i, ((scope_kind, scope_id), ceiling) in enumerate(held.items()):
        values[f"scope_kind_{i}"] = int(scope_kind)
        values[f"scope_id_{i}"] = scope_id
        values[f"ceiling_{i}"] = ceiling
    if after is not None:
        values |= {"after_at": after.key, "after_id": after.id}
    return values


def _candidates(
    held: Held,
    kind: RecordKind,
    reader: Principal,
    after: Cursor | None,
    limit: int,
) -> tuple[Select[tuple[datetime, uuid.UUID]], dict[str, Any]]:
    """The newest ``limit`` index entries of the reader's scopes after ``after``: the
    query and its parameters."""
    shape = _candidate_shape(len(held), reader.host_nation, after is not None)
    return shape, _candidate_values(held, kind, after, limit)


def index_page_statement(
    statement: Select[*tuple[Any, ...]],
    held: Held,
    kind: RecordKind,
    reader: Principal,
    *,
    after: Cursor | None,
    limit: int,
) -> Select[*tuple[Any, ...]]:
    """An unfiltered page as one statement: the statement's rows among the first
    ``limit`` candidates (the benchmark's floor; the service reads the candidates
    first, so that it can go on when the rule refuses some)."""
    shape, values = _candidates(held, kind, reader, after, limit)
    ids = shape.params(values).subquery()
    return statement.join(ids, ids.c.record_id == col(Record.id)).order_by(
        ids.c.created_at.desc(), ids.c.record_id.desc()
    )


async def _candidate_batches(
    session: AsyncSession,
    held: Held,
    kind: RecordKind,
    reader: Principal,
    after: Cursor | None,
    first_batch: int,
) -> AsyncIterator[list[uuid.UUID]]:
    """Candidates in list order, a batch at a time; batches grow when the rule refuses
    some, so a run of refusals costs a few queries, not one per row."""
    batch = first_batch
    while True:
        shape, values = _candidates(held, kind, reader, after, batch)
        found = list((await execute(session, shape, values)).all())
        if not found:
            return
        yield [row[1] for row in found]
        if len(found) < batch:
            return
        after = Cursor(found[-1][0], found[-1][1])
        batch = min(batch * 4, _MAX_BATCH)


def _sorted_page(rows: list[Any]) -> list[Any]:
    # Every page's rows are a listing statement's: the kind's row, then its record.
    return sorted(rows, key=lambda row: (row[1].created_at, row[1].id), reverse=True)


@dataclass(frozen=True, slots=True)
class _Counted:
    """The count statement's figures (see ``_count_figures``), read with a page."""

    readable: int
    considered: int


# A reader has a few shapes per kind (first page or further, the probe or not).
@functools.lru_cache(maxsize=512)
def _counted_page(
    listing: Select[*tuple[Any, ...]],
    counted: Select[Any],
    scopes: int,
    host_nation: bool,
    paged: bool,
    cap: int,
    probe: int | None,
    counting: bool = True,
) -> Select[*tuple[Any, ...]]:
    """An unfiltered page in one statement: the listing's rows among the first
    candidates, with their releases, the number of candidates, and (``counting``) the
    figures of the count of ``counted`` (``counted_ids``).

    Every value is a parameter (the candidates', the count's, the instant), so the
    statement is built once per listing statement (one per reader and kind, see
    ``RecordRepository.listing_statement``) and shape, and SQLAlchemy computes its cache
    key once: building it and keying it again cost more, on every page, than the
    database takes to answer it."""
    # A CTE, not a subquery: read twice (the join and the count), a subquery would
    # walk every scope twice.
    candidates = _candidate_shape(scopes, host_nation, paged).cte("candidates")
    seen = select(func.count()).select_from(candidates).scalar_subquery().label("candidates_seen")
    # Two figures beside every row of the page, computed once (see ``_count_figures``).
    # It saves the count's round trip, the dearest part of a short page on a busy machine.
    figures = _count_figures(counted, scopes, host_nation, cap, probe) if counting else ()
    return (
        listing.add_columns(releases_column())
        .join(candidates, candidates.c.record_id == col(Record.id))
        .add_columns(seen, *figures)
    )


async def _index_page(
    session: AsyncSession,
    listing: Select[*tuple[Any, ...]],
    held: Held,
    kind: RecordKind,
    reader: Principal,
    after: Cursor | None,
    want: int,
    cap: int,
    instant: dict[str, datetime],
    counting: bool,
) -> tuple[list[Any], _Counted | None]:
    """The page, with the figures the count needs when the page has rows and
    ``counting``."""
    # Usually one round trip: the statement's rows among the first ``want`` candidates,
    # with the number of candidates alongside, and the count's figures. Only when the
    # rule refused some of a full batch does the walk go on, batch by batch.
    probe = _probe(held, reader) if counting else None
    one_trip = _counted_page(
        listing, counted_ids(reader), len(held), reader.host_nation, after is not None, cap, probe, counting
    )
    values = _candidate_values(held, kind, after, want) | instant
    if counting:
        values |= _candidate_values(held, kind, None, cap + 1, batch="count_batch")
    rows = list((await execute(session, one_trip, values)).all())
    found = _Counted(rows[0].readable, rows[0].considered) if rows and counting else None
    if len(rows) >= want or (rows and rows[0].candidates_seen < want):
        return _sorted_page(rows)[:want], found
    rows = []
    with_releases = listing.add_columns(releases_column())
    async for ids in _candidate_batches(session, held, kind, reader, after, want):
        chosen = with_releases.where(among(session, col(Record.id), ids))
        rows += _sorted_page(list((await execute(session, chosen, instant)).all()))
        if len(rows) >= want:
            break
    return rows[:want], found


def _count_figures(
    statement: Select[*tuple[Any, ...]], scopes: int, host_nation: bool, cap: int, probe: int | None
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """How many of the first cap + 1 candidates the rule lets through (``readable``),
    and how many candidates there were (``considered``): two columns, whose parameters
    (``_candidate_values`` with ``batch="count_batch"``) are named apart from a page's
    so that both fit in one statement.

    A candidate with a settled index entry among the reader's scopes is counted from
    the index alone; only the others meet the statement (the record and the rule). For
    a reader whose own agency holds most of what they see, that is nearly every one.

    Each is a scalar subquery that names no outer row, so the database computes it
    once whatever statement it sits in (an InitPlan on PostgreSQL), and only when
    asked: a subquery joined to a page's rows instead was run again for every row under
    a generic plan, which guessed the page at one row."""
    candidates = _candidate_shape(scopes, host_nation, False, batch="count_batch", settled=True).cte(
        "count_candidates"
    )

    # IN, not a join: SQLite then walks the few unsettled candidates and looks each
    # record up, where with a join it read every record of the kind through the rule.
    unsettled = select(candidates.c.record_id).where(candidates.c.settled == 0)
    asked = statement.where(col(Record.id).in_(unsettled)).with_only_columns(col(Record.id))
    by_rule = select(func.count()).select_from(asked.subquery())
    by_index = select(func.count()).select_from(candidates).where(candidates.c.settled == 1)
    total: Any = by_index.scalar_subquery() + by_rule.scalar_subquery()
    considered: Any = select(func.count()).select_from(candidates).scalar_subquery()
    if probe is not None:
        # A reader who may see more than the cap usually finds that many in their own
        # agency's scope alone, and finds them settled: the scope alone lets its holders
        # read them (``RecordReach.settled``), so they need neither the rule nor a merge
        # with the other scopes, only counting, up to the cap, in the index. Every other
        # case (too few settled entries there) merges every scope and asks the rule.
        # CASE leaves the union unread when the probe settles it. A walk of one scope
        # holds each record once (the index's key), so it needs no DISTINCT either.
        walk = _scope_walk(
            probe, host_nation, False, "count_batch", [col(RecordReach.record_id)], settled_only=True
        )
        # A CTE named four times is computed once: the probe runs once.
        probed = select(func.count().label("n")).select_from(walk).cte("count_probed")
        found: Any = select(probed.c.n).scalar_subquery()
        settled = found > cap
        total = case((settled, found), else_=total)
        considered = case((settled, found), else_=considered)
    return total.label("readable"), considered.label("considered")


async def _index_count(
    session: AsyncSession,
    counting: Select[Any],
    held: Held,
    kind: RecordKind,
    reader: Principal,
    cap: int,
    instant: dict[str, datetime],
    counted: _Counted | None,
) -> tuple[int, bool]:
    # No statement in the usual case, where the page brought the figures (or one, when
    # the page had no rows): how many of the first cap + 1 candidates the rule lets
    # through, and how many candidates there were. The candidates never leave the
    # database.
    if counted is None:
        figures = _count_figures(counting, len(held), reader.host_nation, cap, _probe(held, reader))
        values = _candidate_values(held, kind, None, cap + 1, batch="count_batch") | instant
        row = (await execute(session, select(*figures), values)).one()
        counted = _Counted(row.readable, row.considered)
    total, considered = counted.readable, counted.considered
    if total > cap:
        return cap, True
    if considered <= cap:
        return total, False
    total = 0
    async for ids in _candidate_batches(session, held, kind, reader, None, cap + 1):
        readable_ids = counting.where(among(session, col(Record.id), ids)).subquery()
        batch_count = select(func.count()).select_from(readable_ids)
        total += int((await execute(session, batch_count, instant)).scalar_one())
        if total > cap:
            return cap, True
    return total, False


def _probe(held: Held, reader: Principal) -> int | None:
    """Where the reader's agency scope is among several held scopes, if it is."""
    if len(held) < 2 or reader.agency_id is None:
        return None
    scopes = list(held)
    own: Scope = (ScopeKind.AGENCY, reader.agency_id)
    return scopes.index(own) if own in scopes else None


async def fetch_record_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    reader: Principal,
    now: datetime,
    kind: RecordKind,
    filtered: bool,
    first: int,
    after: Cursor | None,
    count_cap: int,
    count: bool = True,
) -> Page[Any]:
    """``count``: take the count of what the reader may see (up to ``count_cap``); a
    page that is not asked for it (a GraphQL connection without ``totalCount``) leaves
    it out, which saves a walk of up to ``count_cap`` index entries."""
    if not filtered and not is_listing(statement):
        # An unfiltered page is counted from the kind's records, not from the statement,
        # and its statements are kept per listing: a narrowed one would be counted wrong.
        raise ValueError("an unfiltered page reads a reader's listing_statement()")
    held = await held_scopes(session, reader, now)
    if not held:
        return Page([], [], False, 0, False)
    instant = at_instant(now)
    if filtered:
        # The rows come with their releases, which every page shows (``page_rows_known``).
        page = page_statement(
            statement.add_columns(releases_column()), held, kind, after=after, limit=first + 1
        )
        rows = list((await execute(session, page, instant)).all())
        counted = None
    else:
        rows, counted = await _index_page(
            session, statement, held, kind, reader, after, first + 1, count_cap, instant, count
        )
    has_next = len(rows) > first
    rows = rows[:first]
    cursors = Cursors([Cursor(row[1].created_at, row[1].id) for row in rows])
    if after is None and not has_next:
        total, capped = len(rows), False  # the whole visible set is on this page
    elif not count:
        return Page(rows, cursors, has_next, 0, False, counted=False)
    elif filtered:
        total, capped = await _walk_count(session, statement, held, kind, count_cap, instant)
    else:
        total, capped = await _index_count(
            session, counted_ids(reader), held, kind, reader, count_cap, instant, counted
        )
    return Page(rows, cursors, has_next, total, capped)


async def assembled_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    *,
    first: int,
    after: str | None,
    max_page_size: int,
    count_cap: int,
    assemble: Assembler[Any, T],
    reader: Principal,
    now: datetime,
    kind: RecordKind,
    filtered: bool,
    count: bool = True,
) -> Page[T]:
    """A page of domain rows turned into public models with a fixed number of queries.
    ``filtered``: the statement narrows the reader's records beyond the rule; if not, it
    must be the reader's kept ``RecordRepository.listing_statement()``. Either way it is
    run with the request's instant (``at_instant``). ``count``: see ``fetch_record_page``."""
    check_page_size(first, max_page_size)
    page = await fetch_record_page(
        session,
        statement,
        reader=reader,
        now=now,
        kind=kind,
        filtered=filtered,
        first=first,
        after=Cursor.decode(after) if after else None,
        count_cap=count_cap,
        count=count,
    )
    pairs = [(row[0], row[1]) for row in page.items]
    with page_rows_known(session, {row[1].id: row for row in page.items}):
        items = await assemble(session, pairs)
    return dataclasses.replace(page, items=items)
