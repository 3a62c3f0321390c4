"""one release per record and target

Revision ID: f7a8b9c0d1e2
Revises: e5f6a7b8c9d0
Create Date: 2026-11-23 20:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'f7a8b9c0d1e2'
down_revision: str | None = 'e5f6a7b8c9d0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A record is released to an agency, a sharing group or a person once: a second row for
# the same target only listed the agency twice in ``releasable_to``. Earlier versions
# of handover completion could write one; the duplicates are merged (the oldest row of
# each pair is kept) before the indexes that already served these lookups become
# unique. Columns are in the index's order (target first), as before.
_TARGETS = (
    ('ix_record_release_agency', 'agency_id'),
    ('ix_record_release_group', 'sharing_group_id'),
    ('ix_record_release_user', 'user_id'),
)


def upgrade() -> None:
    for index, target in _TARGETS:
        op.execute(
            f"""
            DELETE FROM record_release
            WHERE {target} IS NOT NULL AND EXISTS (
                SELECT 1 FROM record_release AS kept
                WHERE kept.record_id = record_release.record_id
                  AND kept.{target} = record_release.{target}
                  AND (kept.created_at < record_release.created_at
                       OR (kept.created_at = record_release.created_at AND kept.id < record_release.id))
            )
            """
        )
        op.drop_index(index, table_name='record_release')
        op.create_index(index, 'record_release', [target, 'record_id'], unique=True)


def downgrade() -> None:
    for index, target in _TARGETS:
        op.drop_index(index, table_name='record_release')
        op.create_index(index, 'record_release', [target, 'record_id'], unique=False)
