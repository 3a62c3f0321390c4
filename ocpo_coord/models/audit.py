"""The append-only audit log: entries, and the Merkle tree (RFC 9162) over them."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, SmallInteger, String
from sqlmodel import Field, SQLModel

from ocpo_coord.models.base import UTCDateTime, utcnow

_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(SQLModel, table=True):
    """One act: who, which agency, when, what, on which record, before and after.

    A request inserts its entries and nothing else: their place in the log (``idx`` of
    ``AuditLogEntry``) is given after commit by the sequencer, which hashes the entry's
    canonical bytes into the tree. ``seq`` is the order of insertion only.
    """

    __tablename__ = "audit_event"

    seq: int | None = Field(
        default=None,
        sa_type=_SEQ,
        sa_column_kwargs={"primary_key": True, "autoincrement": True, "nullable": False},
    )
    id: uuid.UUID = Field(unique=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=200)
    agency_id: uuid.UUID | None = None
    request_id: str = Field(default="", max_length=64)
    action: str = Field(max_length=64, index=True)
    record_kind: str | None = Field(default=None, sa_type=String(32))
    record_id: uuid.UUID | None = Field(default=None, index=True)
    # An entry about several records (a list page, nested fields) names them here,
    # as UUID text, and leaves ``record_id`` empty; NULL, not JSON null, when unused.
    record_ids: list[str] | None = Field(default=None, sa_type=JSON(none_as_null=True))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    detail: str = Field(default="", max_length=1000)
    # Entries written since the tree: ``prev_hash`` empty, ``hash`` the leaf hash (hex).
    # Entries written before it keep the hash chain they were written with.
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditPending(SQLModel, table=True):
    """Entries committed and not yet in the log: filled by a trigger on ``audit_event``,
    emptied by the sequencer in the transaction that gives them their place."""

    __tablename__ = "audit_pending"

    event_seq: int = Field(sa_type=_SEQ, primary_key=True, foreign_key="audit_event.seq")


class AuditLogEntry(SQLModel, table=True):
    """Leaf ``idx`` of the tree: the entry it holds and SHA-256(0x00 || entry bytes)."""

    __tablename__ = "audit_log_entry"

    idx: int = Field(sa_type=_SEQ, primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_seq: int = Field(sa_type=_SEQ, unique=True, foreign_key="audit_event.seq")
    leaf_hash: bytes = Field(sa_type=LargeBinary(32))


class AuditTreeNode(SQLModel, table=True):
    """A complete subtree's hash: leaves ``[idx * 2**level, (idx + 1) * 2**level)``,
    level 1 and up (level 0 is ``AuditLogEntry.leaf_hash``). Written once, when complete."""

    __tablename__ = "audit_tree_node"

    level: int = Field(sa_type=SmallInteger(), primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(sa_type=_SEQ, primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_type=LargeBinary(32))


class AuditCheckpoint(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) the sequencer issued."""

    __tablename__ = "audit_checkpoint"

    size: int = Field(sa_type=_SEQ, primary_key=True, sa_column_kwargs={"autoincrement": False})
    root_hash: bytes = Field(sa_type=LargeBinary(32))
    note: str = Field(max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditWitness(SQLModel, table=True):
    """A witness whose cosignatures the installation accepts: its verifier key (vkey)."""

    __tablename__ = "audit_witness"

    name: str = Field(primary_key=True, max_length=200)
    vkey: str = Field(max_length=400, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditCosignature(SQLModel, table=True):
    """A witness's cosignature (C2SP tlog-cosignature) of the checkpoint of ``size``."""

    __tablename__ = "audit_cosignature"

    witness_name: str = Field(primary_key=True, max_length=200, foreign_key="audit_witness.name")
    size: int = Field(sa_type=_SEQ, primary_key=True, foreign_key="audit_checkpoint.size")
    signature_line: str = Field(max_length=600)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
