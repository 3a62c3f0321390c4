"""evidence files

An evidence item may now hold its file's bytes in the installation's file store, kept
under the SHA-256 the item records; a kept file is always known by its digest.

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
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_stored", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_evidence_stored_file_has_digest"), "NOT content_stored OR sha256 IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_evidence_stored_file_has_digest"), type_="check")
        batch_op.drop_column("content_stored")
