"""settled index rows

Marks the visibility index rows whose scope settles the rule for their record
(``record_reach.settled``), adds the flag to the walk's index so that a count reads
it without the table, and rebuilds the index through the service's own code, so that
every row of the records already there carries its flag.

Revision ID: b9c0d1e2f3a4
Revises: a8b9c0d1e2f3
Create Date: 2026-11-24 08:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b9c0d1e2f3a4"
down_revision: str | None = "a8b9c0d1e2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WALK = ["scope_kind", "scope_id", "kind", "created_at", "record_id", "classification", "nohost"]


def upgrade() -> None:
    with op.batch_alter_table("record_reach", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_index("ix_record_reach_walk")
        batch_op.create_index("ix_record_reach_walk", [*_WALK, "settled"], unique=False)

    from ocpo_coord.visibility.reach import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("record_reach", schema=None) as batch_op:
        batch_op.drop_index("ix_record_reach_walk")
        batch_op.create_index("ix_record_reach_walk", _WALK, unique=False)
        batch_op.drop_column("settled")
