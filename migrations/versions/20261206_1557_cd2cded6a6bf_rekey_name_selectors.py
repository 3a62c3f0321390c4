"""rekey name selectors

Selectors are keyed through ICU's transliteration now (names in every script: Serbian
Cyrillic and Latin meet, Greek, Russian and Arabic names have a key): every stored
selector is keyed again the way a new one would be.

Revision ID: cd2cded6a6bf
Revises: fe8f8b2a2139
Create Date: 2026-12-06 15:57:58.018539
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ocpo_coord.entity.selectors import normalize
from ocpo_coord.models.enums import SelectorKind


revision: str = "cd2cded6a6bf"
down_revision: str | None = "fe8f8b2a2139"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SELECTOR = sa.table(
    "selector",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("value", sa.String()),
    sa.column("normalized", sa.String()),
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_SELECTOR.c.id, _SELECTOR.c.kind, _SELECTOR.c.value)).all()
    for row_id, kind, value in rows:
        # A value that has no key any more (only punctuation) keeps the one it had.
        key = normalize(SelectorKind(kind), value)
        if key:
            connection.execute(
                sa.update(_SELECTOR).where(_SELECTOR.c.id == row_id).values(normalized=key[:300])
            )


def downgrade() -> None:
    # The earlier keys came from hand-written rules that are gone; the new keys stay.
    pass
