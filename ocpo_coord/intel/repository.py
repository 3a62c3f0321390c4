"""Intelligence queries, always through the rule (the readable or listing statement)."""

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select as ModelSelect

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.queries import among, among_param, execute
from ocpo_coord.db.sql_json import json_rows, parsed_rows
from ocpo_coord.models import IntelCase, IntelItem, Record
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.text import contains_text
from ocpo_coord.visibility.readable import at_instant, names_readable, readable_template
from ocpo_coord.visibility.repository import RecordRepository, known_column, parsed_uuid


class IntelRepository(RecordRepository[IntelItem]):
    def __init__(self, session: AsyncSession, *, principal: Principal, now: datetime) -> None:
        super().__init__(session, IntelItem, RecordKind.INTEL_ITEM, principal=principal, now=now)

    def page_columns(self) -> tuple[Any, ...]:
        return (case_links_column(self.principal),)

    def filtered(
        self,
        *,
        theatre_id: uuid.UUID | None = None,
        agency_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        source_reliability: str | None = None,
        text: str | None = None,
    ) -> Select[IntelItem, Record]:
        statement: Select[IntelItem, Record] = self.listing_statement()
        if theatre_id:
            statement = statement.where(col(Record.theatre_id) == theatre_id)
        if agency_id:
            statement = statement.where(
                or_(col(Record.originator_agency_id) == agency_id, col(Record.owner_agency_id) == agency_id)
            )
        if case_id:
            # A case the reader may not read selects what a missing one does: nothing.
            statement = statement.where(
                names_readable(self.principal, case_id),
                exists().where(
                    col(IntelCase.intel_id) == col(IntelItem.id), col(IntelCase.case_id) == case_id
                ),
            )
        if source_reliability:
            statement = statement.where(col(IntelItem.source_reliability) == source_reliability)
        if text:
            statement = statement.where(contains_text(text, IntelItem.title, IntelItem.content))
        return statement


async def case_links(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    if wanted:
        rows = (
            await session.exec(select(IntelCase).where(among(session, col(IntelCase.intel_id), wanted)))
        ).all()
        for row in rows:
            grouped[row.intel_id].append(row.case_id)
    return grouped


async def readable_case_links(
    session: AsyncSession, ids: Iterable[uuid.UUID], principal: Principal, now: datetime
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The cases each item is linked to that the reader may read, in one query: a link
    to a case the reader may not read would tell them that the case exists."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    wanted = list(set(ids))
    known = known_column(session, "case_links", wanted)
    if known is not None:
        # A list page brought them (``case_links_column``), through the same rule.
        for intel_id, text in known.items():
            linked = (parsed_uuid(case_id) for (case_id,) in parsed_rows(text))
            grouped[intel_id] = [case_id for case_id in linked if case_id is not None]
        return grouped
    if wanted:
        statement = _readable_case_links(principal, session.get_bind().dialect.name)
        rows = await execute(session, statement, {"intel_ids": wanted} | at_instant(now))
        for intel_id, case_id in rows.all():
            grouped[intel_id].append(case_id)
    return grouped


# Every page of intelligence asks this of the same reader: the statement is kept, so its
# cache key is computed once (see ``readable_template``).
@functools.lru_cache(maxsize=256)
def _readable_case_links(principal: Principal, dialect: str) -> ModelSelect[uuid.UUID, uuid.UUID]:
    return (
        select(col(IntelCase.intel_id), col(IntelCase.case_id))
        .join(Record, col(Record.id) == col(IntelCase.case_id))
        .where(among_param(dialect, col(IntelCase.intel_id), "intel_ids"), readable_template(principal))
    )


@functools.lru_cache(maxsize=256)
def case_links_column(principal: Principal) -> Any:
    """``readable_case_links`` as a column of an intelligence list page: the item's cases
    the reader may read, as ``json_rows``, a round trip fewer per page.

    The cases' ``record`` rows are this subquery's own (its FROM joins them, and
    ``correlate_except`` says so): inside it ``record`` names each linked case, and the
    rule judges the case, while the page's ``record`` outside names the item. Only
    ``intel_item`` is taken from the page's row."""
    return (
        select(json_rows(col(IntelCase.case_id)))
        .select_from(IntelCase)
        .join(Record, col(Record.id) == col(IntelCase.case_id))
        .where(col(IntelCase.intel_id) == col(IntelItem.id), readable_template(principal))
        .correlate_except(Record, IntelCase)
        .scalar_subquery()
        .label("case_links")
    )


async def replace_case_links(session: AsyncSession, intel_id: uuid.UUID, case_ids: list[uuid.UUID]) -> None:
    for row in (await session.exec(select(IntelCase).where(IntelCase.intel_id == intel_id))).all():
        await session.delete(row)
    await session.flush()
    for case_id in sorted(set(case_ids)):
        session.add(IntelCase(intel_id=intel_id, case_id=case_id))
    await session.flush()


def add_case_links(session: AsyncSession, intel_id: uuid.UUID, case_ids: list[uuid.UUID]) -> None:
    """A new item's links, written with it by the caller's flush."""
    session.add_all(IntelCase(intel_id=intel_id, case_id=case_id) for case_id in sorted(set(case_ids)))
