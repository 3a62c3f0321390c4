"""Nested lists under many parents in one query: the first N readable children of each.

A window function numbers each parent's children, so a page of 50 cases costs one
query per kind of child rather than one per case, and no parent's list is unbounded.
The same window counts each parent's readable children, so a nested connection's
total comes with its first page at no extra query.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select
from sqlmodel import SQLModel, col

from ocpo_coord.db.queries import among, execute
from ocpo_coord.models import Record
from ocpo_coord.visibility.repository import RecordRepository

# How a kind of child hangs off its parent: an optional link table and the parent column.
ChildLink = tuple[type[SQLModel], ColumnElement[bool]]


def children_statement(repo: RecordRepository[Any], *, join: ChildLink | None = None) -> Select[Any, Record]:
    """The children the reader may read, before narrowing to some parents."""
    statement: Select[Any, Record] = repo.readable_statement()
    return statement if join is None else statement.join(join[0], join[1])


@dataclass(slots=True)
class Children:
    """Each parent's first readable children, newest first, and how many it has in all."""

    rows: dict[uuid.UUID, list[tuple[Any, Record]]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[uuid.UUID, int] = field(default_factory=dict)


async def first_children(
    repo: RecordRepository[Any],
    parent_column: SQLColumnExpression[Any],
    parent_ids: Iterable[uuid.UUID],
    first: int,
    *,
    join: ChildLink | None = None,
) -> Children:
    wanted = list(set(parent_ids))
    found = Children()
    if not wanted:
        return found
    numbered = (
        children_statement(repo, join=join)
        .with_only_columns(
            col(Record.id).label("child_id"),
            parent_column.label("parent_key"),
            func.row_number()
            .over(partition_by=parent_column, order_by=(col(Record.created_at).desc(), col(Record.id).desc()))
            .label("position"),
            func.count().over(partition_by=parent_column).label("siblings"),
        )
        .where(among(repo.session, parent_column, wanted))
        .subquery()
    )
    picked = (
        await execute(
            repo.session,
            select(numbered.c.child_id, numbered.c.parent_key, numbered.c.siblings).where(
                numbered.c.position <= first
            ),
        )
    ).all()
    if not picked:
        return found
    rows = await repo.get_many(child for child, _, _ in picked)
    for child, parent, siblings in picked:
        found.totals[parent] = int(siblings)
        if child in rows:
            found.rows[parent].append(rows[child])
    for children in found.rows.values():
        children.sort(key=lambda row: (row[1].created_at, row[1].id), reverse=True)
    return found
