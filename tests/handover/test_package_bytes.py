"""The bytes of a package: the database-built lines equal the portable ones, and the bag
written from checksums taken during the export is the bag bagit itself would make."""

import json
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
from ocpo_coord.db.engine import make_sync_engine
from ocpo_coord.db.queries import execute
from ocpo_coord.evidence.store import DamagedFile, FileStore
from ocpo_coord.handover import export, package_sql, streaming
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.package import verify_package
from ocpo_coord.visibility.reach import rebuild
from tests.fixtures.handover import IN, act, completed_handover

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
    """Every payload file but the header, whose export time differs between runs, and
    the audit proof, whose checkpoint grows with the log (each export is an entry)."""
    data = package / "data"
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != "handover.json" and p.relative_to(data).parts[0] != "audit"
    }


def _proven_entries(package: Path) -> list[str]:
    return sorted(
        json.loads(line)["entry"]
        for part in (package / "data" / "audit" / "proofs").glob("part-*.jsonl")
        for line in part.read_text(encoding="utf-8").splitlines()
    )


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
    # Both prove the same entries about the same records.
    assert _proven_entries(tmp_path / "database") == _proven_entries(tmp_path / "portable") != []
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


CORRECTED = (
    ("case", "summary", "corrected case"),
    ("intel_item", "content", "corrected item"),
    ("task", "description", "corrected task"),
)


def _correct(conn: Any, suffix: str = "") -> None:
    for kind, field, value in CORRECTED:
        table = "case_file" if kind == "case" else kind
        conn.execute(text(f"UPDATE {table} SET {field} = :t"), {"t": value + suffix})


def _record_values(package: Path, kind: str, field: str) -> list[str]:
    """One field of every record of a kind in the package."""
    return [
        orjson.loads(line)["data"][field]
        for name, data in _payload(package).items()
        if name.startswith(f"records/{kind}/")
        for line in data.splitlines()
    ]


@ONLY_POSTGRES
async def test_an_export_after_writes_in_its_transaction_reads_them_all(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second connection cannot see what the export's own transaction wrote and has
    not committed: after a write, every kind is read on the session's connection; in a
    transaction that has written nothing, the kinds are shared between two."""
    hid = uuid.UUID(await completed_handover(client))
    seconds: list[bool] = []
    readers = streaming.snapshot_readers

    @asynccontextmanager
    async def noted(session: AsyncSession, wanted: int) -> AsyncIterator[list[AsyncConnection]]:
        async with readers(session, wanted) as connections:
            seconds.append(len(connections) > 1)
            yield connections

    monkeypatch.setattr(streaming, "snapshot_readers", noted)

    async def corrected_then_exported(session: AsyncSession, actor: Actor) -> Any:
        await session.run_sync(lambda sync: _correct(sync))
        return await export_handover(session, actor=actor, handover_id=hid, directory=tmp_path / "after")

    summary = await act(db_url, IN, corrected_then_exported)
    assert seconds == [False]
    for kind, field, value in CORRECTED:
        values = _record_values(tmp_path / "after", kind, field)
        assert len(values) == summary.counts[kind]
        assert set(values) == {value}, kind

    await act(
        db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=tmp_path / "again")
    )
    assert seconds == [False, True]


@ONLY_POSTGRES
async def test_an_export_reads_one_state_while_others_commit(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit by someone else once the export has begun reaches no kind of record: all
    are read from the snapshot, none by a statement of the session's own transaction
    (which, at READ COMMITTED, would read the newer state)."""
    hid = uuid.UUID(await completed_handover(client))
    readers = streaming.snapshot_readers

    @asynccontextmanager
    async def meanwhile(session: AsyncSession, wanted: int) -> AsyncIterator[list[AsyncConnection]]:
        async with readers(session, wanted) as connections:
            assert len(connections) == wanted
            engine = make_sync_engine(db_url)
            try:
                with engine.begin() as conn:
                    _correct(conn, " meanwhile")
            finally:
                engine.dispose()
            yield connections

    monkeypatch.setattr(streaming, "snapshot_readers", meanwhile)
    await act(db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=tmp_path / "p"))
    for kind, field, value in CORRECTED:
        values = _record_values(tmp_path / "p", kind, field)
        assert values, kind
        assert f"{value} meanwhile" not in values, kind


@ONLY_POSTGRES
async def test_an_export_in_a_savepoint_reads_on_the_session_connection(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    """A subtransaction cannot export its snapshot: the export stays on the session's
    own connection, and sees what the savepoint wrote."""
    hid = uuid.UUID(await completed_handover(client))

    async def in_savepoint(session: AsyncSession, actor: Actor) -> Any:
        async with session.begin_nested():
            await execute(session, text("UPDATE task SET description = :t"), {"t": "corrected task"})
            return await export_handover(session, actor=actor, handover_id=hid, directory=tmp_path / "p")

    summary = await act(db_url, IN, in_savepoint)
    assert verify_package(tmp_path / "p").ok
    assert set(_record_values(tmp_path / "p", "task", "description")) == {"corrected task"}
    assert summary.counts["task"] > 0


def _stored_files(store: FileStore) -> list[Path]:
    return sorted(p for p in store.root.glob("??/*") if p.is_file())


async def test_a_damaged_kept_file_stops_the_export_naming_it_and_leaves_nothing(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    hid = uuid.UUID(await completed_handover(client))
    kept = _stored_files(FileStore.configured())
    assert kept
    intact = {path: path.read_bytes() for path in kept}
    for path, data in intact.items():
        path.write_bytes(data + b"tampered")
    target = tmp_path / "package"
    try:
        with pytest.raises(DamagedFile) as refused:
            await act(db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=hid, directory=target))
    finally:
        for path, data in intact.items():
            path.write_bytes(data)
    assert any(path.name in refused.value.message for path in kept)
    assert not target.exists() or not any(target.iterdir())
