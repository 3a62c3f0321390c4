"""names in every script

Name and code selectors are now keyed by maintained transliterations (Serbian Cyrillic
by its Latin alphabet, Greek, Russian, Arabic and the rest to ASCII), so that the same
person written in two scripts yields one key. Existing selectors are keyed again with
the same function the service uses; phones, e-mail addresses and vessel numbers are
unchanged.

Revision ID: a1b2c3d4e5f6
Revises: e2f3a4b5c6d7
Create Date: 2026-12-06 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ocpo_coord.entity.selectors import normalize
from ocpo_coord.models.enums import SelectorKind

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "e2f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNCHANGED = {SelectorKind.PHONE, SelectorKind.EMAIL, SelectorKind.VESSEL_IMO, SelectorKind.VESSEL_MMSI}


def upgrade() -> None:
    selector = sa.table(
        "selector", sa.column("id", sa.Uuid()), sa.column("kind"), sa.column("value"), sa.column("normalized")
    )
    connection = op.get_bind()
    rekeyed: list[dict[str, object]] = []
    rows = connection.execute(
        sa.select(selector.c.id, selector.c.kind, selector.c.value, selector.c.normalized)
    ).all()
    for row in rows:
        kind = SelectorKind(row.kind)
        if kind in _UNCHANGED:
            continue
        key = normalize(kind, row.value)
        if key and key != row.normalized:
            rekeyed.append({"key": row.id, "normalized": key})
    if rekeyed:
        connection.execute(
            selector.update().where(selector.c.id == sa.bindparam("key")).values(normalized=sa.bindparam("normalized")),
            rekeyed,
        )


def downgrade() -> None:
    # The earlier keys cannot be told from the values alone any more than they were
    # written: a downgrade keeps the new ones, which the earlier code also compares.
    pass
