"""The shareable record: handling markings shared by every case, item, task and note.

Each domain table (case, intel_item, evidence, task, note, entity, planned_operation)
shares its primary key with a row here. Keeping the markings in one table means the
visibility rule is written once, against one table, and every read path joins it.
"""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, SmallInteger, String, Text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import Classification, RecordKind, Tlp


class Record(SQLModel, table=True):
    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_kind_created", "kind", "created_at", "id"),
        CheckConstraint("classification BETWEEN 0 AND 3", name="classification_range"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: RecordKind = Field(sa_type=String(32))
    originator_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    custodian_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    owner_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    theatre_id: uuid.UUID | None = Field(default=None, foreign_key="theatre.id", index=True)
    # The case a record hangs off (evidence, notes, tasks); the case itself has none.
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="record.id", index=True)
    # Set when the record is, or hangs off, a restricted case: only that case's
    # members may read it. Denormalised so the visibility rule needs no recursion.
    restricted_case_id: uuid.UUID | None = Field(default=None, foreign_key="record.id", index=True)
    classification: Classification = Field(default=Classification.UNCLASSIFIED, sa_type=SmallInteger)
    tlp: Tlp = Field(default=Tlp.AMBER, sa_type=String(16))
    orcon: bool = False
    nohost: bool = False
    # A tear-line version points at its protected original; never the other way.
    tear_line_of_id: uuid.UUID | None = Field(default=None, foreign_key="record.id")
    provenance: str = Field(default="", sa_type=Text)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordRelease(SQLModel, table=True):
    """Releasable-to: an agency, a sharing group, or (for TLP:RED) a named individual."""

    __tablename__ = "record_release"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN sharing_group_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        # One release per record and target (NULLs never collide, so each index holds
        # only its own kind of target).
        Index("ix_record_release_agency", "agency_id", "record_id", unique=True),
        Index("ix_record_release_group", "sharing_group_id", "record_id", unique=True),
        Index("ix_record_release_user", "user_id", "record_id", unique=True),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    record_id: uuid.UUID = Field(foreign_key="record.id", index=True)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    sharing_group_id: uuid.UUID | None = Field(default=None, foreign_key="sharing_group.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordGrant(SQLModel, table=True):
    """The owner's grant of access to an agency or a user, until it expires."""

    __tablename__ = "record_grant"
    __table_args__ = (
        CheckConstraint("(agency_id IS NULL) <> (user_id IS NULL)", name="agency_or_user"),
        Index("ix_record_grant_agency", "agency_id", "record_id"),
        Index("ix_record_grant_user", "user_id", "record_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    record_id: uuid.UUID = Field(foreign_key="record.id", index=True)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=1000)
    granted_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
