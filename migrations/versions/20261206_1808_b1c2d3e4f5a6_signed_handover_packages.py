"""signed handover packages

The installations whose package signing keys this one trusts, and the audit checkpoint
and inclusion proofs each imported package carried about the records it handed over.

Revision ID: b1c2d3e4f5a6
Revises: fe8f8b2a2139
Create Date: 2026-12-06 18:08:57.355216
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ocpo_coord.models.base

revision: str = 'b1c2d3e4f5a6'
down_revision: str | None = 'fe8f8b2a2139'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trusted_installation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('vkey', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('registered_by_id', sa.Uuid(), nullable=True),
    sa.Column('registered_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('registered_at', ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['registered_by_id'], ['user_account.id'], name=op.f('fk_trusted_installation_registered_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_installation')),
    sa.UniqueConstraint('vkey', name=op.f('uq_trusted_installation_vkey'))
    )
    with op.batch_alter_table('trusted_installation', schema=None) as batch_op:
        batch_op.create_index('uq_trusted_installation_name_in_force', ['name'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('handover_import_checkpoint',
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('signer_vkey', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('checkpoint', sa.Text(), nullable=False),
    sa.Column('imported_at', ocpo_coord.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_handover_import_checkpoint_handover_id_handover')),
    sa.PrimaryKeyConstraint('handover_id', name=op.f('pk_handover_import_checkpoint'))
    )
    op.create_table('handover_import_proof',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('handover_id', sa.Uuid(), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('source_record_id', sa.Uuid(), nullable=False),
    sa.Column('leaf_index', sa.BigInteger(), nullable=False),
    sa.Column('entry', sa.Text(), nullable=False),
    sa.Column('hashes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handover_import_checkpoint.handover_id'], name=op.f('fk_handover_import_proof_handover_id_handover_import_checkpoint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_import_proof'))
    )
    with op.batch_alter_table('handover_import_proof', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_import_proof_handover_id'), ['handover_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_import_proof_record_id'), ['record_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handover_import_proof', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_import_proof_record_id'))
        batch_op.drop_index(batch_op.f('ix_handover_import_proof_handover_id'))

    op.drop_table('handover_import_proof')
    op.drop_table('handover_import_checkpoint')
    with op.batch_alter_table('trusted_installation', schema=None) as batch_op:
        batch_op.drop_index('uq_trusted_installation_name_in_force', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.drop_table('trusted_installation')
