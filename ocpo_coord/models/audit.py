"""The append-only, hash-chained audit log."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One act: who, which agency, when, what, on which record, before and after.

    ``hash`` covers a canonical serialisation of the entry and ``prev_hash``, so a
    changed, deleted, inserted or reordered entry breaks the chain.
    """

    __tablename__ = "audit_event"

    seq: int | None = Field(
        default=None,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
        sa_column_kwargs={"primary_key": True, "autoincrement": True, "nullable": False},
    )
    id: uuid.UUID = Field(unique=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=200)
    agency_id: uuid.UUID | None = None
    request_id: str = Field(default="", max_length=64)
    action: str = Field(max_length=64, index=True)
    record_kind: str | None = Field(default=None, sa_type=String(32))
    record_id: uuid.UUID | None = Field(default=None, index=True)
    # An entry about several records (a list page, nested fields) names them here,
    # as UUID text, and leaves ``record_id`` empty; NULL, not JSON null, when unused.
    record_ids: list[str] | None = Field(default=None, sa_type=JSON(none_as_null=True))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    detail: str = Field(default="", max_length=1000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
