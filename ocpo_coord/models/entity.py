"""Entities referred to by records, and their normalised selectors."""

import uuid

from sqlalchemy import JSON, Index, String
from sqlmodel import Field, SQLModel

from ocpo_coord.models.enums import EntityKind, SelectorKind


class Entity(SQLModel, table=True):
    __tablename__ = "entity"

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    entity_kind: EntityKind = Field(sa_type=String(16))
    label: str = Field(max_length=300)
    attributes: dict[str, str] = Field(default_factory=dict, sa_type=JSON)


class Selector(SQLModel, table=True):
    """A normalised identifier; equal (kind, normalized) across agencies is a hit."""

    __tablename__ = "selector"
    __table_args__ = (Index("ix_selector_kind_normalized", "kind", "normalized"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    entity_id: uuid.UUID = Field(foreign_key="entity.id", index=True)
    kind: SelectorKind = Field(sa_type=String(32))
    value: str = Field(max_length=300)
    normalized: str = Field(max_length=300)


class RecordEntity(SQLModel, table=True):
    """A record (case, intelligence item...) refers to an entity."""

    __tablename__ = "record_entity"

    record_id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    entity_id: uuid.UUID = Field(foreign_key="entity.id", primary_key=True, index=True)
    role: str = Field(default="subject", max_length=64)
