"""audit log as a Merkle tree

Entries are appended without a lock or a read of the chain's head; a sequencer gives
committed entries their place in an RFC 9162 Merkle tree and signs checkpoints.
Entries already chained are queued in their order, so the first integration puts
them, unchanged, at the start of the tree.

Revision ID: f3a4b5c6d7e8
Revises: e2f3a4b5c6d7
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ocpo_coord.models.base

revision: str = "f3a4b5c6d7e8"
down_revision: str | None = "e2f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Tables nobody changes once written (the queue is emptied by the sequencer).
_WRITE_ONCE = ("audit_log_entry", "audit_tree_node", "audit_checkpoint", "audit_witness", "audit_cosignature")

_PG_QUEUE = """
CREATE OR REPLACE FUNCTION audit_event_queue() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_pending (event_seq) VALUES (NEW.seq);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

_PG_CHAIN_HEAD = """
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1);
END;
$$
"""


def _create_tables() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("event_seq", _SEQ, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["audit_event.seq"], name=op.f("fk_audit_pending_event_seq_audit_event")
        ),
        sa.PrimaryKeyConstraint("event_seq", name=op.f("pk_audit_pending")),
    )
    op.create_table(
        "audit_log_entry",
        sa.Column("idx", _SEQ, autoincrement=False, nullable=False),
        sa.Column("event_seq", _SEQ, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["audit_event.seq"], name=op.f("fk_audit_log_entry_event_seq_audit_event")
        ),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_log_entry")),
        sa.UniqueConstraint("event_seq", name=op.f("uq_audit_log_entry_event_seq")),
    )
    op.create_table(
        "audit_tree_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", _SEQ, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree_node")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("size", _SEQ, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("created_at", ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoint")),
    )
    op.create_table(
        "audit_witness",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("vkey", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("created_at", ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_witness")),
        sa.UniqueConstraint("vkey", name=op.f("uq_audit_witness_vkey")),
    )
    op.create_table(
        "audit_cosignature",
        sa.Column("witness_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("size", _SEQ, nullable=False),
        sa.Column("signature_line", sqlmodel.sql.sqltypes.AutoString(length=600), nullable=False),
        sa.Column("created_at", ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["size"], ["audit_checkpoint.size"], name=op.f("fk_audit_cosignature_size_audit_checkpoint")
        ),
        sa.ForeignKeyConstraint(
            ["witness_name"],
            ["audit_witness.name"],
            name=op.f("fk_audit_cosignature_witness_name_audit_witness"),
        ),
        sa.PrimaryKeyConstraint("witness_name", "size", name=op.f("pk_audit_cosignature")),
    )


def upgrade() -> None:
    _create_tables()
    postgres = op.get_bind().dialect.name == "postgresql"
    # Every entry so far, in the chain's order: the sequencer puts them first in the tree.
    op.execute("INSERT INTO audit_pending (event_seq) SELECT seq FROM audit_event ORDER BY seq")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
        op.execute(_PG_QUEUE)
        op.execute(
            "CREATE TRIGGER audit_event_queue AFTER INSERT ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_queue()"
        )
        for table in _WRITE_ONCE:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
            )
        op.execute(
            "CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_event_queue AFTER INSERT ON audit_event "
        "BEGIN INSERT INTO audit_pending (event_seq) VALUES (NEW.seq); END"
    )
    for table in (*_WRITE_ONCE, "audit_pending"):
        verbs = ("UPDATE",) if table == "audit_pending" else ("UPDATE", "DELETE")
        for verb in verbs:
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_event_queue ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_queue()")
        op.execute(_PG_CHAIN_HEAD)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_queue")
    for table in (
        "audit_cosignature",
        "audit_witness",
        "audit_checkpoint",
        "audit_tree_node",
        "audit_log_entry",
        "audit_pending",
    ):
        op.drop_table(table)
