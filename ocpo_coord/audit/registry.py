"""Witnesses the installation accepts cosignatures from."""

import json
from pathlib import Path

from sqlalchemy import Connection, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.note import Verifier
from ocpo_coord.models import AuditWitness

witnesses = AuditWitness.__table__  # type: ignore[attr-defined]

# The demo's witnesses (EULEX's and KFOR's auditors): their private keys sit beside the
# demo data, for the README's walk-through only.
DEMO_WITNESSES = Path(__file__).resolve().parents[2] / "seed" / "witnesses.json"


def register_witness(conn: Connection, verifier: Verifier) -> bool:
    """Whether it was new; a name already registered keeps its key."""
    if conn.execute(select(witnesses.c.name).where(witnesses.c.name == verifier.name)).first() is not None:
        return False
    conn.execute(insert(witnesses).values(name=verifier.name, vkey=verifier.text()))
    return True


async def register_demo_witnesses(session: AsyncSession) -> None:
    for entry in json.loads(DEMO_WITNESSES.read_text(encoding="utf-8")):
        verifier = Verifier.parse(entry["vkey"])
        found = await session.exec(select(witnesses.c.name).where(witnesses.c.name == verifier.name))  # type: ignore[call-overload]
        if found.first() is None:
            await session.exec(insert(witnesses).values(name=verifier.name, vkey=verifier.text()))
