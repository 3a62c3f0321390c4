"""taxii status

The status resource of each envelope a TAXII client posted to a collection.

Revision ID: c2d3e4f5a6b7
Revises: b1c2d3e4f5a6
Create Date: 2026-12-06 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocpo_coord.models.base

revision: str = 'c2d3e4f5a6b7'
down_revision: str | None = 'b1c2d3e4f5a6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('taxii_status',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('collection_id', sa.Uuid(), nullable=False),
    sa.Column('request_timestamp', ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=False),
    sa.Column('successes', sa.JSON(), nullable=False),
    sa.Column('failures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_taxii_status_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_status'))
    )
    op.create_index(op.f('ix_taxii_status_user_id'), 'taxii_status', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_taxii_status_user_id'), table_name='taxii_status')
    op.drop_table('taxii_status')
