"""Nested lists under many parents in one query: the first N readable children of each.

A window function numbers each parent's children, so a page of 50 cases costs one
query per kind of child rather than one per case, and no parent's list is unbounded.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select
from sqlmodel import SQLModel, col

from ocpo_coord.db import execute
from ocpo_coord.models import Record
from ocpo_coord.records.repository import RecordRepository


async def first_children(
    repo: RecordRepository[Any],
    parent_column: SQLColumnExpression[Any],
    parent_ids: Iterable[uuid.UUID],
    first: int,
    *,
    join: tuple[type[SQLModel], ColumnElement[bool]] | None = None,
) -> dict[uuid.UUID, list[tuple[Any, Record]]]:
    wanted = list(set(parent_ids))
    grouped: dict[uuid.UUID, list[tuple[Any, Record]]] = defaultdict(list)
    if not wanted:
        return grouped
    base: Select[Any, Record] = repo.readable_statement()
    if join is not None:
        base = base.join(join[0], join[1])
    numbered = (
        base.with_only_columns(
            col(Record.id).label("child_id"),
            parent_column.label("parent_key"),
            func.row_number()
            .over(partition_by=parent_column, order_by=(col(Record.created_at).desc(), col(Record.id).desc()))
            .label("position"),
        )
        .where(parent_column.in_(wanted))
        .subquery()
    )
    picked = (
        await execute(
            repo.session,
            select(numbered.c.child_id, numbered.c.parent_key).where(numbered.c.position <= first),
        )
    ).all()
    if not picked:
        return grouped
    rows = await repo.get_many(child for child, _ in picked)
    for child, parent in picked:
        if child in rows:
            grouped[parent].append(rows[child])
    for children in grouped.values():
        children.sort(key=lambda row: (row[1].created_at, row[1].id), reverse=True)
    return grouped
