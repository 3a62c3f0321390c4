"""Intelligence items, graded on the Admiralty system, linked to cases."""

import uuid
from datetime import date, datetime

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime
from ocpo_coord.models.enums import InformationCredibility, SourceReliability


class IntelItem(SQLModel, table=True):
    __tablename__ = "intel_item"

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    title: str = Field(max_length=300)
    content: str = Field(sa_type=Text)
    information_date: date
    source_reliability: SourceReliability = Field(sa_type=String(1))
    information_credibility: InformationCredibility = Field(sa_type=String(1))
    source_description: str = Field(default="", max_length=300)


class IntelCase(SQLModel, table=True):
    __tablename__ = "intel_case"

    intel_id: uuid.UUID = Field(foreign_key="intel_item.id", primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case_file.id", primary_key=True, index=True)


class StixImport(SQLModel, table=True):
    """The STIX object an imported item came from, at the version imported: the same
    object again changes nothing; a later ``modified`` updates the item."""

    __tablename__ = "stix_import"

    record_id: uuid.UUID = Field(foreign_key="intel_item.id", primary_key=True)
    stix_id: str = Field(max_length=300)
    modified: datetime = Field(sa_type=UTCDateTime)
