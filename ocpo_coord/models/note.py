"""Timeline notes on a case."""

import uuid

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class Note(SQLModel, table=True):
    __tablename__ = "note"

    id: uuid.UUID = Field(foreign_key="record.id", primary_key=True)
    body: str = Field(sa_type=Text)
