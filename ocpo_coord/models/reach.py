"""The visibility index: who could read each record, kept beside the data.

One row per (record, reader scope). A list page walks the rows of the reader's few
scopes in the list's own order (``ix_record_reach_walk``), so a reader who may see
600 of a million records reads about 600 index entries, not the million records.
Classification and NOHOST are copied onto the row because they depend on the
reader, not the scope: the walk skips what is above the reader's clearance, or
NOHOST for a host nation, without touching the record.
See ``ocpo_coord/visibility/reach.py`` for how the rows are derived and kept in step.
"""

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, SmallInteger, String, Uuid, false
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime


class RecordReach(SQLModel, table=True):
    __tablename__ = "record_reach"
    __table_args__ = (
        Index(
            "ix_record_reach_walk",
            "scope_kind",
            "scope_id",
            "kind",
            "created_at",
            "record_id",
            "classification",
            "nohost",
            "settled",
        ),
    )

    record_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("record.id", ondelete="CASCADE"), primary_key=True)
    )
    scope_kind: int = Field(sa_type=SmallInteger, primary_key=True)
    scope_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(sa_type=String(32))
    # The record's own created_at: with record_id, the key every list is ordered by.
    created_at: datetime = Field(sa_type=UTCDateTime)
    classification: int = Field(sa_type=SmallInteger)
    nohost: bool
    # Every reader who holds this scope may read the record, at any instant (within the
    # walk's ceiling and NOHOST): a count need not ask the rule (``visibility/reach.py``).
    settled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
