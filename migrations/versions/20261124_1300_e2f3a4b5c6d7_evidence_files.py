"""evidence files

An evidence item may now hold its file's bytes in the installation's file store, kept
under the SHA-256 the item records.

Revision ID: e2f3a4b5c6d7
Revises: c0d1e2f3a4b5
Create Date: 2026-11-24 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2f3a4b5c6d7"
down_revision: str | None = "c0d1e2f3a4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: SQLite adds and drops a column in place,
    # where a batch copy of the table would trip over custody events that point at it.
    op.add_column("evidence", sa.Column("content_stored", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("evidence", "content_stored")
