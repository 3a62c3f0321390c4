"""Responsibilities for activity areas, and planned operations."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import ActivityArea, OperationKind, OperationStatus, ResponsibilityRole


class Responsibility(SQLModel, table=True):
    """Who leads, supports, is consulted or informed for an area, where, and when."""

    __tablename__ = "responsibility"
    __table_args__ = (CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="period"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    theatre_id: uuid.UUID = Field(foreign_key="theatre.id", index=True)
    region: str = Field(default="", max_length=100)
    activity_area: ActivityArea = Field(sa_type=String(40))
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    role: ResponsibilityRole = Field(sa_type=String(16))
    valid_from: date
    valid_until: date | None = None
    mandate_basis: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PlannedOperation(SQLModel, table=True):
    """A raid, arrest, search, patrol or surveillance at a place in a time window."""

    __tablename__ = "planned_operation"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        CheckConstraint("radius_m >= 0", name="radius"),
    )

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    operation_kind: OperationKind = Field(sa_type=String(16))
    title: str = Field(max_length=300)
    site_name: str = Field(default="", max_length=300)
    latitude: float
    longitude: float
    radius_m: float = 100.0
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: OperationStatus = Field(default=OperationStatus.PLANNED, sa_type=String(16))
