"""stix import versions

The STIX object and version each imported intelligence item came from: importing the
same object again changes nothing, a later `modified` updates the item.

Revision ID: fe8f8b2a2139
Revises: a1b2c3d4e5f6
Create Date: 2026-12-06 15:47:37.328554
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ocpo_coord.models.base

revision: str = 'fe8f8b2a2139'
down_revision: str | None = 'a1b2c3d4e5f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stix_import',
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('stix_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('modified', ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['intel_item.id'], name=op.f('fk_stix_import_record_id_intel_item')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_stix_import'))
    )


def downgrade() -> None:
    op.drop_table('stix_import')
