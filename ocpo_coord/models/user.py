"""Users, the positions that outlive them, and the tours that join the two."""

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, SmallInteger
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow
from ocpo_coord.models.enums import Classification


class User(SQLModel, table=True):
    # "user" is reserved in PostgreSQL.
    __tablename__ = "user_account"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    login: str = Field(max_length=100, unique=True)
    display_name: str = Field(max_length=200)
    # Installation administrators belong to no agency and so read no agency's data.
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id", index=True)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    clearance: Classification = Field(default=Classification.UNCLASSIFIED, sa_type=SmallInteger)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Position(SQLModel, table=True):
    """A post such as "Head of Organized Crime Bureau"; tasks attach here, not to people."""

    __tablename__ = "position"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    theatre_id: uuid.UUID | None = Field(default=None, foreign_key="theatre.id")
    title: str = Field(max_length=200)
    # The position that deconfliction hits and access requests go to.
    deconfliction_contact: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Tour(SQLModel, table=True):
    __tablename__ = "tour"
    __table_args__ = (CheckConstraint("end_date IS NULL OR end_date >= start_date", name="tour_dates"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    position_id: uuid.UUID = Field(foreign_key="position.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    start_date: date
    end_date: date | None = None
