"""one installation identity

The installation's identity is made at its first use; two first uses at once could
each make one, and a package would then name either. A column that is always true and
unique allows one row. Where two were made already, the older stays.

Revision ID: c0d1e2f3a4b5
Revises: b9c0d1e2f3a4
Create Date: 2026-11-24 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0d1e2f3a4b5"
down_revision: str | None = "b9c0d1e2f3a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM installation WHERE id <> "
        "(SELECT id FROM installation ORDER BY created_at, id LIMIT 1)"
    )
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("singleton", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_unique_constraint("one_installation", ["singleton"])
        batch_op.create_check_constraint(op.f("ck_installation_singleton"), "singleton")


def downgrade() -> None:
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_installation_singleton"), type_="check")
        batch_op.drop_constraint("one_installation", type_="unique")
        batch_op.drop_column("singleton")
