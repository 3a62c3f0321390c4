"""audit entries name several records

Revision ID: e5f6a7b8c9d0
Revises: d1e2f3a4b5c6
Create Date: 2026-11-24 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e5f6a7b8c9d0'
down_revision: str | None = 'd1e2f3a4b5c6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ADD COLUMN on both databases: a batch copy of the table on SQLite would drop
# the append-only triggers. Existing entries keep NULL and hash as they always did.


def upgrade() -> None:
    op.add_column('audit_event', sa.Column('record_ids', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place, so the triggers stay.
    op.drop_column('audit_event', 'record_ids')
