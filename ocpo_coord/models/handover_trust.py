"""Signed handover packages: the installations whose keys this one trusts, and the
proof each imported package carried about the records it handed over."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Text, text
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, new_id, utcnow


class TrustedInstallation(SQLModel, table=True):
    """An installation whose signed packages this one imports: its verifier key.

    A revoked key stays (``revoked_at`` set) so that what was imported under it can
    still be traced; at most one key of a name is in force at a time.
    """

    __tablename__ = "trusted_installation"
    __table_args__ = (
        Index(
            "uq_trusted_installation_name_in_force",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    vkey: str = Field(max_length=400, unique=True)
    registered_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    registered_by_name: str = Field(max_length=200)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HandoverImportCheckpoint(SQLModel, table=True):
    """The predecessor's signed audit checkpoint an imported package carried, and the
    key that signed the package: what every proof of that import leads to."""

    __tablename__ = "handover_import_checkpoint"

    handover_id: uuid.UUID = Field(primary_key=True, foreign_key="handover.id")
    signer_vkey: str = Field(max_length=400)
    checkpoint: str = Field(sa_type=Text)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HandoverImportProof(SQLModel, table=True):
    """One audit entry the predecessor recorded about an imported record, with its
    inclusion proof against the checkpoint of the import (``leaf_index``, ``hashes``
    base64, one a line). ``entry`` is the entry's canonical bytes as text."""

    __tablename__ = "handover_import_proof"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    handover_id: uuid.UUID = Field(foreign_key="handover_import_checkpoint.handover_id", index=True)
    record_id: uuid.UUID = Field(index=True)
    source_record_id: uuid.UUID
    leaf_index: int = Field(sa_type=BigInteger())
    entry: str = Field(sa_type=Text)
    hashes: str = Field(sa_type=Text)
