"""Evidence files: kept by their digest, read back only through the sharing rule, and
carried by the handover package into the receiving installation's store."""

import asyncio
import base64
import hashlib
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import bagit
import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.evidence.store import DamagedFile, FileStore
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import import_package
from ocpo_coord.handover.package import FORMAT, InvalidPackage, verify_package
from ocpo_coord.models import AuditEvent, Evidence, ImportedRecord
from tests.conftest import auth
from tests.fixtures.handover import IN, act, counts, rebag, sign_and_complete, work_to_reviewed
from tests.fixtures.queries import rows

OWNER = "unmik.chief"
# Long enough for any loaded machine; only a request that waits for ever reaches it.
HANG_GUARD = 300.0
# Bigger than the 4 MiB any other request body may have, and holding NUL bytes.
BIG = 5 * 1024 * 1024 + 17


def some_bytes(size: int, seed: int = 1) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() + b"\x00") * (size // 33) + b"\x00" * (size % 33)


async def unmik_case(client: httpx.AsyncClient) -> str:
    """A case UNMIK leads in Kosovo: in scope of the test handover."""
    listed = await client.get("/api/v1/cases", params={"limit": 100}, headers=auth(OWNER))
    assert listed.status_code == 200, listed.text
    return next(
        str(c["id"])
        for c in listed.json()["items"]
        if c["lead_agency"] == "UNMIK" and c["theatre"] == "KOS" and not c["restricted"]
    )


async def file_item(
    client: httpx.AsyncClient, data: bytes, *, kind: str = "file", **markings: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_id": await unmik_case(client),
        "evidence_kind": kind,
        "title": "Seized phone: extraction report",
        "file_name": "extraction.bin",
        "markings": {"tlp": "AMBER", "releasable_to": ["EULEX"], **markings},
    }
    if kind == "file":
        body["sha256"] = hashlib.sha256(data).hexdigest()
    created = await client.post("/api/v1/evidence", json=body, headers=auth(OWNER))
    assert created.status_code == 201, created.text
    return dict(created.json())


def upload(client: httpx.AsyncClient, evidence_id: str, data: bytes, login: str = OWNER) -> Any:
    return client.put(
        f"/api/v1/evidence/{evidence_id}/file",
        content=data,
        headers={**auth(login), "Content-Type": "application/octet-stream"},
    )


def leftovers(store: FileStore) -> list[Path]:
    incoming = store.root / "incoming"
    return list(incoming.iterdir()) if incoming.exists() else []


async def test_a_file_is_kept_once_and_given_back_with_its_digest(
    client: httpx.AsyncClient, db_url: str
) -> None:
    data = some_bytes(BIG)
    digest = hashlib.sha256(data).hexdigest()
    item = await file_item(client, data)
    assert item["content_stored"] is False

    kept = await upload(client, item["id"], data)
    assert kept.status_code == 200, kept.text
    assert kept.json()["content_stored"] is True
    assert kept.json()["size_bytes"] == len(data)
    assert kept.json()["version"] == item["version"] + 1
    store = FileStore.configured()
    assert store.path(digest).read_bytes() == data
    assert not leftovers(store)

    got = await client.get(f"/api/v1/evidence/{item['id']}/file", headers=auth(OWNER))
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["repr-digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
    assert 'filename="extraction.bin"' in got.headers["content-disposition"]

    # The same bytes again change nothing: the digest, set once, is the file.
    again = await upload(client, item["id"], data)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == kept.json()["version"]

    actions = [
        row.action
        for row in await rows(db_url, select(AuditEvent).where(AuditEvent.record_id == uuid.UUID(item["id"])))
    ]
    assert actions.count("evidence.file") == 1
    assert actions.count("evidence.download") == 1


async def test_bytes_that_are_not_the_recorded_file_are_refused_and_not_kept(
    client: httpx.AsyncClient, db_url: str
) -> None:
    data = some_bytes(4096)
    item = await file_item(client, data)
    other = some_bytes(4096, seed=2)
    refused = await upload(client, item["id"], other)
    assert refused.status_code == 422, refused.text
    error = refused.json()["detail"]
    assert error["field"] == "file"
    assert hashlib.sha256(other).hexdigest() in error["message"]
    store = FileStore.configured()
    assert not store.holds(hashlib.sha256(other).hexdigest())
    assert not leftovers(store)
    (stored,) = await rows(db_url, select(Evidence).where(Evidence.id == uuid.UUID(item["id"])))
    assert not stored.content_stored
    missing = await client.get(f"/api/v1/evidence/{item['id']}/file", headers=auth(OWNER))
    assert missing.status_code == 404


async def test_a_physical_item_holds_no_file(client: httpx.AsyncClient) -> None:
    item = await file_item(client, b"", kind="physical")
    refused = await upload(client, item["id"], b"photo of the item")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"]["field"] == "evidence_kind"


async def test_a_file_over_the_limit_is_refused_and_not_kept(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = some_bytes(10_000)
    item = await file_item(client, data)
    monkeypatch.setattr(get_settings(), "max_file_bytes", 9_999)
    refused = await upload(client, item["id"], data)
    assert refused.status_code == 413, refused.text
    assert refused.json()["detail"]["field"] == "file"
    store = FileStore.configured()
    assert not store.holds(hashlib.sha256(data).hexdigest())
    assert not leftovers(store)


async def test_only_readers_get_the_file_and_only_the_owner_keeps_one(client: httpx.AsyncClient) -> None:
    data = some_bytes(2048, seed=3)
    item = await file_item(client, data)
    path = f"/api/v1/evidence/{item['id']}/file"

    # EULEX may read the item (released to it), not change it.
    refused = await upload(client, item["id"], data, login="eulex.prosecutor")
    assert refused.status_code == 403, refused.text
    assert (await upload(client, item["id"], data)).status_code == 200
    assert (await client.get(path, headers=auth("eulex.prosecutor"))).content == data

    # Whoever may not read the item learns nothing of its file, not even that it exists.
    outsiders = [
        login
        for login in ("minustah.analyst", "hnp.officer", "kp.investigator", "omik.adviser")
        if (await client.get(f"/api/v1/evidence/{item['id']}", headers=auth(login))).status_code == 404
    ]
    assert outsiders
    for login in outsiders:
        got = await client.get(path, headers=auth(login))
        assert got.status_code == 404, (login, got.text)
        assert data not in got.content
        put = await upload(client, item["id"], data, login=login)
        assert put.status_code == 404, (login, put.text)
    assert (await client.get(path)).status_code == 401


async def exported_with_a_file(
    client: httpx.AsyncClient, db_url: str, package: Path, data: bytes, store: FileStore | None = None
) -> tuple[dict[str, Any], Any]:
    """A file item in scope of a handover, its bytes kept; the handover completed and
    exported to ``package`` from ``store``: the item and the export's summary."""
    item = await file_item(client, data)
    assert (await upload(client, item["id"], data)).status_code == 200
    hid, _ = await work_to_reviewed(client)
    await sign_and_complete(client, hid)

    def export(session: AsyncSession, actor: Actor) -> Awaitable[Any]:
        return export_handover(
            session, actor=actor, handover_id=uuid.UUID(hid), directory=package, store=store
        )

    return item, await act(db_url, IN, export)


async def test_the_package_carries_the_file_and_the_receiver_keeps_it(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    data = some_bytes(300_000, seed=4)
    digest = hashlib.sha256(data).hexdigest()
    package = tmp_path / "package"
    item, summary = await exported_with_a_file(client, db_url, package, data)
    # This item's file, and the demo's intercept summaries (the one seeded file).
    carried = sorted((package / "data" / "files").iterdir())
    assert len(carried) == summary.files == 2
    assert summary.file_bytes == sum(path.stat().st_size for path in carried)
    assert (package / "data" / "files" / digest).read_bytes() == data
    bag = bagit.Bag(str(package))
    bag.validate()
    for path in carried:
        assert bag.payload_entries()[f"data/files/{path.name}"]["sha256"] == path.name
    assert bag.info["Ocpo-Format"] == FORMAT
    assert bag.info["Ocpo-File-Count"] == "2"

    target = FileStore(tmp_path / "receiver-files")
    imported = await act(
        other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package, store=target)
    )
    assert target.path(digest).read_bytes() == data
    new_id = uuid.UUID(imported.id_map[item["id"]])
    (received,) = await rows(other_db_url, select(Evidence).where(Evidence.id == new_id))
    assert received.content_stored
    assert received.sha256 == digest
    assert await rows(other_db_url, select(ImportedRecord).where(ImportedRecord.target_id == new_id))


async def test_a_file_that_is_missing_or_not_the_items_imports_nothing(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    data = some_bytes(70_000, seed=5)
    digest = hashlib.sha256(data).hexdigest()
    package = tmp_path / "package"
    await exported_with_a_file(client, db_url, package, data)

    def swapped(root: Path) -> None:
        (root / "files" / digest).write_bytes(some_bytes(70_000, seed=6))

    def dropped(root: Path) -> None:
        (root / "files" / digest).unlink()

    target = FileStore(tmp_path / "receiver-files")
    before = await counts(other_db_url)
    for name, change in (("swapped", swapped), ("dropped", dropped)):
        bad = tmp_path / name
        # Bagged again with its file count as it now is: fixity and the count hold,
        # so only the importer's own checks can catch it.
        rebag(package, bad, FORMAT, change, recount_files=True)
        assert verify_package(bad).ok, verify_package(bad).problems

        def importing(session: AsyncSession, actor: Actor, package: Path = bad) -> Awaitable[Any]:
            return import_package(session, actor=actor, directory=package, store=target)

        with pytest.raises(InvalidPackage) as refused:
            await act(other_db_url, IN, importing)
        assert f"files/{digest}" in refused.value.message, refused.value.message
        assert await counts(other_db_url) == before
        assert not target.holds(digest)


async def test_a_damaged_kept_file_stops_the_export_and_leaves_nothing(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    data = some_bytes(50_000, seed=7)
    digest = hashlib.sha256(data).hexdigest()
    # The installation's store as it would be after a disk fault: one byte changed.
    store = FileStore(tmp_path / "damaged-store")
    shutil.copytree(FileStore.configured().root, store.root, ignore=shutil.ignore_patterns("incoming"))
    store.path(digest).parent.mkdir(exist_ok=True)
    store.path(digest).write_bytes(data[:-1] + b"!")
    package = tmp_path / "package"
    with pytest.raises(DamagedFile) as refused:
        await exported_with_a_file(client, db_url, package, data, store)
    assert digest in refused.value.message
    assert not package.exists() or not any(package.iterdir())
    assert store.holds(digest)


def locks_held(db_url: str) -> list[str]:
    """What other connections hold of the database's write path right now: the audit
    chain's lock and open transactions (PostgreSQL), the write lock (SQLite)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
        except sqlite3.OperationalError as exc:
            return [str(exc)]
        finally:
            connection.close()
        return []
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        held = conn.execute(
            "SELECT locktype FROM pg_locks JOIN pg_database ON pg_database.oid = pg_locks.database "
            "WHERE datname = current_database() AND locktype = 'advisory' AND pid <> pg_backend_pid()"
        ).fetchall()
        open_transactions = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        ).fetchall()
    return [str(row[0]) for row in held + open_transactions]


async def test_no_writer_waits_while_a_file_arrives(client: httpx.AsyncClient, db_url: str) -> None:
    """A big file on a slow link takes minutes to arrive: the write lock (the audit
    chain's on PostgreSQL, the database's on SQLite) must not be held meanwhile.

    Checked on the database itself while the upload is half-way (no lock held, no
    transaction open), then by a write that must finish before the upload may go on:
    were it to wait for the upload, it would wait for ever (the guard below only turns
    that into a failure; it measures nothing)."""
    data = some_bytes(3 * 1024 * 1024, seed=8)
    item = await file_item(client, data)
    halfway = asyncio.Event()
    resume = asyncio.Event()

    async def slowly() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        halfway.set()
        await resume.wait()
        yield data[len(data) // 2 :]

    upload_task = asyncio.create_task(
        client.put(f"/api/v1/evidence/{item['id']}/file", content=slowly(), headers=auth(OWNER))
    )
    await asyncio.wait_for(halfway.wait(), timeout=HANG_GUARD)
    assert locks_held(db_url) == []
    # Another agency writes while the upload is half-way: it must not wait for it.
    other = await asyncio.wait_for(
        client.post(
            "/api/v1/intel-items",
            json={
                "title": "Report written during an upload",
                "content": "Written while another agency's file was arriving.",
                "information_date": "2026-11-01",
                "source_reliability": "B",
                "information_credibility": "2",
                "theatre": "KOS",
            },
            headers=auth("kfor.j2"),
        ),
        timeout=HANG_GUARD,
    )
    assert other.status_code == 201, other.text
    assert not upload_task.done()
    resume.set()
    kept = await asyncio.wait_for(upload_task, timeout=HANG_GUARD)
    assert kept.status_code == 200, kept.text
    assert kept.json()["content_stored"] is True
