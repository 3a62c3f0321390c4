"""audit chain head function

Revision ID: a8b9c0d1e2f3
Revises: f7a8b9c0d1e2
Create Date: 2026-11-23 23:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a8b9c0d1e2f3"
down_revision: str | None = "f7a8b9c0d1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# PostgreSQL only (SQLite serialises writers by itself): the chain's head, read after
# taking the chain's lock, in the statement that appends the next entry.
#
# A statement's snapshot is taken when it starts, so a statement that waited for the
# lock could still not see the entry its predecessor committed meanwhile, and would
# fork the chain. A VOLATILE function's queries each take a fresh snapshot (READ
# COMMITTED), so the SELECT below, run after the lock is granted, sees that entry.
# The lock key is the caller's, so the service keeps the one constant
# (``audit/service.py``).
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_head(lock_key bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN (SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1);
END;
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
