"""Shared column types and the metadata naming convention."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic_core import PydanticUndefined
from sqlalchemy import DateTime, Dialect, Table
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from ocpo_coord import clock

# Named constraints make alembic revisions reproducible on both dialects.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, by the installation's one clock (the real time but in a development demo)."""
    return clock.now()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both dialects.

    SQLite keeps no zone, so values come back naive; they are always written as UTC,
    so they are read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps must carry a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def column_values(row: SQLModel) -> dict[str, Any]:
    """A table row's columns as stored, for audit snapshots and packages.

    ``model_dump`` is not used: rows read back hold plain strings where the model
    declares enums, and pydantic warns about every one of them.
    """
    return {column.name: getattr(row, column.name) for column in row.__table__.columns}  # type: ignore[attr-defined]


def table_of(model: type[SQLModel]) -> Table:
    """The model's table, for plain Core statements: an insert of a list of rows on the
    ORM entity goes through the ORM's bulk path, which costs per row what the plain
    insert does not."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """Every column of a new row for a plain multi-row insert, the model's defaults
    included (plain inserts skip them). Building the model object instead costs ten
    times as much."""
    row = {}
    for name, default, factory in _column_defaults(model):
        if name in values:
            row[name] = values[name]
        elif factory is not None:
            row[name] = factory()
        elif default is PydanticUndefined:
            raise TypeError(f"{model.__name__}.{name} is required")
        else:
            row[name] = default
    return row


@cache
def _column_defaults(model: type[SQLModel]) -> list[tuple[str, Any, Callable[[], Any] | None]]:
    fields = model.model_fields
    return [
        (column.name, fields[column.name].default, fields[column.name].default_factory)  # type: ignore[misc]
        for column in table_of(model).c
    ]


def validated_row(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a row whose values come from outside (a package), checked and
    converted as ``model.model_validate`` would, without building the model's
    instrumented object, which costs several times the validation itself."""
    checked = _row_model(model).model_validate(values)
    return {column.name: getattr(checked, column.name) for column in table_of(model).c}


@cache
def _row_model(model: type[SQLModel]) -> type[BaseModel]:
    """A plain pydantic model with the table model's fields, annotations and defaults."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            fields[name] = (info.annotation, Field(default_factory=info.default_factory))
        elif info.is_required():
            fields[name] = (info.annotation, ...)
        else:
            fields[name] = (info.annotation, info.default)
    row: type[BaseModel] = create_model(f"{model.__name__}Values", **fields)
    return row
