"""What a TAXII client's POST of objects became: the status resource it may ask for again."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime


class TaxiiStatus(SQLModel, table=True):
    """One envelope a user posted to a collection. Imports run at once, so a status is
    written complete; it answers only its poster (the objects may be theirs alone)."""

    __tablename__ = "taxii_status"

    id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    collection_id: uuid.UUID
    request_timestamp: datetime = Field(sa_type=UTCDateTime)
    total_count: int
    # [{"id": stix id, "version": modified, "message": ...}], as TAXII 2.1 section 4.3.1 shows them.
    successes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    failures: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
