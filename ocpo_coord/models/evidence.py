"""Evidence and documents, with SHA-256 fixity and a chain of custody."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, false
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id
from ocpo_coord.models.enums import EvidenceKind


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (CheckConstraint("sha256 IS NULL OR length(sha256) = 64", name="sha256_length"),)

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    evidence_kind: EvidenceKind = Field(sa_type=String(16))
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    sha256: str | None = Field(default=None, max_length=64)
    file_name: str | None = Field(default=None, max_length=300)
    size_bytes: int | None = None
    storage_location: str = Field(default="", max_length=300)
    # The file's bytes are in the installation's file store (``evidence.store``), under
    # ``sha256``; otherwise only its description is recorded here.
    content_stored: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    collected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CustodyEvent(SQLModel, table=True):
    """One link of the chain of custody: who held the item, from when, where."""

    __tablename__ = "custody_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    evidence_id: uuid.UUID = Field(foreign_key="evidence.id", index=True)
    holder_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    holder_user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    received_at: datetime = Field(sa_type=UTCDateTime)
    location: str = Field(max_length=300)
    note: str = Field(default="", max_length=1000)
