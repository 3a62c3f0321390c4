"""The bytes of a package: the database-built lines equal the portable ones, and the bag
written from checksums taken during the export is the bag bagit itself would make."""

import re
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import bagit
import httpx
import orjson
import psycopg
import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.context import Actor
from ocpo_coord.db import execute, make_sync_engine
from ocpo_coord.handover import export, package_sql, streaming
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.package import verify_package
from ocpo_coord.sharing.reach import rebuild
from tests.test_handover import IN
from tests.test_handover_package import act, completed_handover

# Everything JSON escapes, quotes and backslashes, line and paragraph separators,
# characters beyond the BMP: the database must write them as orjson does.
TRICKY = '"quoted" \\ back/slash\n\r\t\x01\x1f\x7f \u2028\u2029 é 中文 😀 </script>'

ONLY_POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def _roughen(url: str) -> None:
    """Text that needs escaping in every kind of record, and timestamps on the second
    (isoformat then writes no fraction) beside ones with microseconds."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE record SET provenance = provenance || :t"), {"t": TRICKY})
            conn.execute(text("UPDATE case_file SET summary = :t"), {"t": TRICKY})
            conn.execute(text("UPDATE intel_item SET content = :t"), {"t": TRICKY})
            conn.execute(text("UPDATE note SET body = :t"), {"t": TRICKY})
            conn.execute(text("UPDATE task SET description = :t"), {"t": TRICKY})
            conn.execute(text("UPDATE custody_event SET note = :t"), {"t": TRICKY})
            conn.execute(
                text(
                    "UPDATE record SET created_at = date_trunc('second', created_at) "
                    "WHERE substr(CAST(id AS TEXT), 1, 1) < '8'"
                )
            )
            # Plain updates skip the session's flush hook: the index follows by hand.
            rebuild(conn)
    finally:
        engine.dispose()


def _payload(package: Path) -> dict[str, bytes]:
    """Every payload file but the header, whose export time differs between runs."""
    data = package / "data"
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != "handover.json"
    }


@ONLY_POSTGRES
async def test_the_database_writes_the_same_bytes_as_the_portable_path(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hid = uuid.UUID(await completed_handover(client))
    _roughen(db_url)

    async def run(directory: Path) -> dict[str, int]:
        summary = await act(
            db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=directory)
        )
        return summary.counts

    built = await run(tmp_path / "database")
    monkeypatch.setattr(export, "database_builds_lines", lambda session: False)
    portable = await run(tmp_path / "portable")
    assert built == portable
    # The demo's handover moves every kind of record the package carries.
    assert {"case", "intel_item", "note", "task", "evidence"} <= set(built)
    ours, reference = _payload(tmp_path / "database"), _payload(tmp_path / "portable")
    assert ours.keys() == reference.keys()
    for name in reference:
        assert ours[name] == reference[name], name
    lines = b"".join(v for k, v in ours.items() if k.startswith("records/"))
    assert TRICKY.encode("utf-8") not in lines, "control characters travel escaped"
    assert "中文 😀".encode() in lines
    # On the second, isoformat writes no fraction; otherwise all six digits.
    assert re.search(rb'"created_at":"[0-9-]{10}T[0-9:]{8}\+00:00"', lines)
    assert re.search(rb'"created_at":"[0-9-]{10}T[0-9:]{8}\.[0-9]{6}\+00:00"', lines)


async def test_the_bag_is_the_one_bagit_makes_of_the_same_payload(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    hid = uuid.UUID(await completed_handover(client))
    package = tmp_path / "package"
    await act(db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=package))
    assert verify_package(package).ok
    ours = bagit.Bag(str(package))
    ours.validate()

    again = tmp_path / "again"
    shutil.copytree(package / "data", again)
    info = {k: v for k, v in ours.info.items() if k != "Payload-Oxum"}
    bagit.make_bag(str(again), bag_info=info, checksums=["sha256"])

    def lines(bag: Path, name: str) -> list[str]:
        return sorted((bag / name).read_text(encoding="utf-8").splitlines())

    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        assert lines(package, name) == lines(again, name), name
    # The manifest's own checksum depends on the order of its lines, which the
    # manifest leaves free; bagit's validation above checks ours.
    tags = [line for line in lines(package, "tagmanifest-sha256.txt") if "manifest-" not in line]
    assert tags == [line for line in lines(again, "tagmanifest-sha256.txt") if "manifest-" not in line]
    assert len(lines(package, "tagmanifest-sha256.txt")) == 3
    assert (package / "bag-info.txt").read_bytes() == (again / "bag-info.txt").read_bytes()


@ONLY_POSTGRES
async def test_a_failing_statement_stops_the_export_with_its_own_error_and_leaves_nothing(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kinds are copied on two connections; when one statement fails the other runs
    to its end, and what the caller sees is the failure, not a broken clean-up."""
    hid = uuid.UUID(await completed_handover(client))
    monkeypatch.setattr(
        package_sql, "handover_lines", lambda _: select(literal_column("no_such_function(1)").label("line"))
    )
    target = tmp_path / "package"
    with pytest.raises(psycopg.errors.UndefinedFunction):
        await act(db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=target))
    assert not target.exists() or not any(target.iterdir())


@ONLY_POSTGRES
async def test_an_export_after_writes_in_its_transaction_reads_them_all(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second connection cannot see what the export's own transaction wrote and has
    not committed: after a write, every kind is read on the session's connection; in a
    transaction that has written nothing, the kinds are shared between two."""
    hid = uuid.UUID(await completed_handover(client))
    seconds: list[bool] = []
    sharing = streaming.same_snapshot

    @asynccontextmanager
    async def noted(session: AsyncSession) -> AsyncIterator[AsyncConnection | None]:
        async with sharing(session) as other:
            seconds.append(other is not None)
            yield other

    monkeypatch.setattr(streaming, "same_snapshot", noted)

    async def corrected_then_exported(session: AsyncSession, actor: Actor) -> Any:
        await execute(session, text("UPDATE case_file SET summary = :t"), {"t": "corrected case"})
        await execute(session, text("UPDATE intel_item SET content = :t"), {"t": "corrected item"})
        await execute(session, text("UPDATE task SET description = :t"), {"t": "corrected task"})
        return await export_handover(session, actor=actor, handover_id=hid, directory=tmp_path / "after")

    summary = await act(db_url, IN, corrected_then_exported)
    assert seconds == [False]
    parts = _payload(tmp_path / "after")
    for kind, field, value in (
        ("case", "summary", "corrected case"),
        ("intel_item", "content", "corrected item"),
        ("task", "description", "corrected task"),
    ):
        lines = [
            orjson.loads(line)
            for name, data in parts.items()
            if name.startswith(f"records/{kind}/")
            for line in data.splitlines()
        ]
        assert len(lines) == summary.counts[kind]
        assert {line["data"][field] for line in lines} == {value}, kind

    await act(
        db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=tmp_path / "again")
    )
    assert seconds == [False, True]
