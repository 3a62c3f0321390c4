"""Agencies, theatres, sharing groups and sharing agreements."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, SmallInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import AgencyKind, Classification, ParentOrganisation


class Theatre(SQLModel, table=True):
    """A country or region where agencies are co-deployed."""

    __tablename__ = "theatre"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=100)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Agency(SQLModel, table=True):
    __tablename__ = "agency"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    kind: AgencyKind = Field(sa_type=String(32))
    parent_organisation: ParentOrganisation = Field(default=ParentOrganisation.NONE, sa_type=String(16))
    host_nation: bool = False
    mandate_start: date | None = None
    mandate_end: date | None = None
    predecessor_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgencyTheatre(SQLModel, table=True):
    """Deployment of an agency in a theatre: the scope of TLP:GREEN."""

    __tablename__ = "agency_theatre"

    agency_id: uuid.UUID = Field(foreign_key="agency.id", primary_key=True)
    theatre_id: uuid.UUID = Field(foreign_key="theatre.id", primary_key=True, index=True)


class SharingGroup(SQLModel, table=True):
    """A named set of agencies that records can be released to at once."""

    __tablename__ = "sharing_group"
    __table_args__ = (UniqueConstraint("owner_agency_id", "name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SharingGroupMember(SQLModel, table=True):
    __tablename__ = "sharing_group_member"

    sharing_group_id: uuid.UUID = Field(foreign_key="sharing_group.id", primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id", primary_key=True, index=True)


class SharingAgreement(SQLModel, table=True):
    """An MoU: while valid, the grantor's AMBER and GREEN records reach the grantee.

    It never overrides a stricter marking (AMBER+STRICT, RED, ORCON, NOHOST,
    classification above ``max_classification``) and grants nothing outside its period.
    """

    __tablename__ = "sharing_agreement"
    __table_args__ = (
        CheckConstraint("valid_until > valid_from", name="valid_period"),
        CheckConstraint("grantor_agency_id <> grantee_agency_id", name="distinct_parties"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=300)
    grantor_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    grantee_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    max_classification: Classification = Field(default=Classification.RESTRICTED, sa_type=SmallInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
