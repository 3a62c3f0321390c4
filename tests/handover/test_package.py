"""Handover packages between two installations: export, verify, tamper, import, re-import."""

import asyncio
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bagit
import httpx
import pytest
from sqlmodel import delete, func, select
from typer.testing import CliRunner

from ocpo_coord.cli import app as cli_app
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.exceptions import Forbidden
from ocpo_coord.handover import importer, package_repository
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import import_package
from ocpo_coord.handover.package import (
    FORMAT,
    FORMAT_1,
    InvalidPackage,
    installation_identity,
    verify_package,
)
from ocpo_coord.models import (
    AuditEvent,
    Installation,
    Record,
    RecordRelease,
)
from tests.conftest import auth, index_in_step
from tests.fixtures.handover import (
    IN,
    OUT,
    act,
    completed_handover,
    counts,
    exported,
    lines,
    rebag,
    work_to_reviewed,
)
from tests.fixtures.queries import rows


async def import_audit_ids(url: str) -> list[str]:
    """The record ids that the import's audit entries name."""
    engine = make_async_engine(url)
    try:
        async with sessionmaker_for(engine)() as session:
            entries = (
                await session.exec(select(AuditEvent).where(AuditEvent.action == "handover.import_records"))
            ).all()
            return [i for e in entries for i in e.record_ids or []]
    finally:
        await engine.dispose()


async def test_export_is_a_valid_bag_and_imports_once(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    hid, summary = await exported(client, db_url, package)
    accepted = [
        line
        for line in await lines(client, hid, IN)
        if line["disposition"] == "accepted"
        and line["kind"] in ("case", "evidence", "note", "intel_item", "task")
    ]
    assert accepted
    # The accepted records, and the entities linked to them, which travel with them.
    assert summary.records == len(accepted) + summary.counts.get("entity", 0)
    assert summary.counts.get("entity", 0) > 0

    # An independent check with the bagit library itself: fixity and completeness.
    bag = bagit.Bag(str(package))
    bag.validate()
    assert "sha256" in bag.algorithms
    assert bag.info["Ocpo-Handover-Id"] == hid
    assert bag.info["Ocpo-Record-Count"] == str(summary.records)
    assert bag.info["Ocpo-Source-Installation"] == summary.source_installation

    before = await counts(other_db_url)
    first = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert first.created == summary.records
    assert not first.already_imported
    after = await counts(other_db_url)
    assert after["record"] == before["record"] + summary.records
    assert after["imported"] == summary.records
    assert after["handover"] == before["handover"] + 1

    # Old id -> new id, provenance kept, and the receiver reads what it now owns.
    old_case = next(line["subject_id"] for line in accepted if line["kind"] == "case")
    new_case = first.id_map[old_case]
    assert new_case != old_case
    engine = make_async_engine(other_db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            record = await session.get(Record, uuid.UUID(new_case))
            assert record is not None
            assert "transferred from UNMIK to EULEX" in record.provenance
            assert f"source id {old_case}" in record.provenance
    finally:
        await engine.dispose()

    index_in_step(other_db_url)
    # Every imported record is named by an audit entry of the import.
    assert sorted(await import_audit_ids(other_db_url)) == sorted(first.id_map.values())

    again = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert again.already_imported
    assert again.created == 0
    assert again.id_map == first.id_map
    assert (await counts(other_db_url))["record"] == after["record"]


async def test_an_import_sent_again_while_the_first_still_runs_imports_once(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    """A client that stops waiting and sends the import again while the first still
    runs: one creates the records, the other answers that the package was imported,
    with the same ids, and nothing is written twice."""
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    before = await counts(other_db_url)
    results = await asyncio.gather(
        *(act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package)) for _ in range(2))
    )
    assert sorted(r.already_imported for r in results) == [False, True]
    assert sorted(r.created for r in results) == [0, summary.records]
    assert results[0].id_map == results[1].id_map
    after = await counts(other_db_url)
    assert after["record"] == before["record"] + summary.records
    assert after["imported"] == summary.records
    assert after["handover"] == before["handover"] + 1


@pytest.mark.parametrize("login", ["eulex.prosecutor", "kp.investigator", "unmik.chief"])
async def test_only_the_receiving_administrator_learns_what_an_import_created(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path, login: str
) -> None:
    """Once a package is in, importing it again answers with the new ids of its records:
    that answer goes to the receiving agency's administrator alone. A colleague who is
    not one, a host-nation officer and the sending agency's chief are refused, as they
    are before the first import."""
    package = tmp_path / "package"
    await exported(client, db_url, package)
    first = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert first.created > 0
    with pytest.raises(Forbidden):
        await act(other_db_url, login, lambda s, a: import_package(s, actor=a, directory=package))


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_an_import_that_waits_past_the_time_limit_says_so_in_one_line(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    """The same package's import under way elsewhere, for longer than the statement time
    limit: the command line says what stopped it, and nothing is written."""
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    manifest = json.loads((package / "data" / "handover.json").read_text())
    before = await counts(other_db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env |= {
        "OCPO_DATABASE_URL": other_db_url,
        "OCPO_STATE_DIR": str(tmp_path / "state"),
        "OCPO_FILE_STORE_DIR": str(tmp_path / "files"),
        "OCPO_DB_STATEMENT_TIMEOUT_SECONDS": "1",
    }
    engine = make_async_engine(other_db_url)
    try:
        async with sessionmaker_for(engine)() as holder:  # the import under way elsewhere
            await package_repository.hold_import_of(
                holder, manifest["source_installation"], uuid.UUID(manifest["handover"]["id"])
            )
            command = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "ocpo_coord.cli", "handover", "import", str(package), "--as", IN),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
            out, err = await asyncio.wait_for(command.communicate(), timeout=120)
            await holder.rollback()
    finally:
        await engine.dispose()
    assert command.returncode == 1, out
    stderr = err.decode()
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "time limit" in lines[0], lines[0]
    assert "rolled back" in lines[0], lines[0]
    assert await counts(other_db_url) == before
    assert summary.records > 0


def _tampered(package: Path, tmp_path: Path, how: str) -> tuple[Path, str]:
    copy = tmp_path / f"tampered-{how}"
    shutil.copytree(package, copy)
    record = next((copy / "data" / "records" / "case").glob("part-*.jsonl"))
    name = str(record.relative_to(copy))
    if how == "changed":
        record.write_text(record.read_text(encoding="utf-8").replace("UNMIK", "UNMIC"), encoding="utf-8")
    elif how == "missing":
        record.unlink()
    elif how == "extra":
        name = "data/records/case/part-9999.jsonl"
        (copy / name).write_text("{}\n", encoding="utf-8")
    elif how == "extra-tag":
        name = "notes.txt"
        (copy / name).write_text("not part of the package", encoding="utf-8")
    return copy, name


@pytest.mark.parametrize("how", ["changed", "missing", "extra", "extra-tag"])
async def test_a_tampered_package_names_the_file_and_imports_nothing(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path, how: str
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    bad, name = _tampered(package, tmp_path, how)
    check = verify_package(bad)
    assert not check.ok
    assert any(name in problem for problem in check.problems), check.problems
    before = await counts(other_db_url)
    with pytest.raises(InvalidPackage) as refused:
        await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=bad))
    assert name in refused.value.message
    assert await counts(other_db_url) == before

    result = CliRunner().invoke(cli_app, ["handover", "verify", str(bad)])
    assert result.exit_code == 1
    assert name in result.output


@pytest.mark.parametrize("stage", ["prepared", "write"])
async def test_a_failure_half_way_through_an_import_leaves_the_receiver_unchanged(
    client: httpx.AsyncClient,
    db_url: str,
    other_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
) -> None:
    """A batch fails while it is read and prepared (in the worker thread, with the batch
    before it being written) or while it is written: nothing stays either way."""
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    assert summary.records >= 3
    # One record a batch, and the third batch fails after two were inserted.
    monkeypatch.setattr(importer, "BATCH", 1)
    real = getattr(importer._Loader, stage)
    calls = {"n": 0}

    def fail_third() -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        # For ``write`` it hands back the coroutine, which the import awaits.
        fail_third()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(importer._Loader, stage, failing)
    before = await counts(other_db_url)
    # The evidence files are being copied into the receiver's store meanwhile.
    assert any((package / "data" / "files").iterdir())
    receiver = FileStore(tmp_path / "receiver-files")
    with pytest.raises(RuntimeError, match="disk full"):
        await act(
            other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package, store=receiver)
        )
    assert calls["n"] == 3
    assert await counts(other_db_url) == before
    assert _kept_files(receiver) == []
    # And once the fault is gone, the same package imports whole, files and all.
    monkeypatch.setattr(importer._Loader, stage, real)
    done = await act(
        other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package, store=receiver)
    )
    assert done.created == summary.records
    assert _kept_files(receiver) == sorted(p.name for p in (package / "data" / "files").iterdir())


def _kept_files(store: FileStore) -> list[str]:
    """The files anywhere in the store, staging included, by name."""
    return sorted(p.name for p in store.root.rglob("*") if p.is_file()) if store.root.exists() else []


async def test_only_the_receivers_administrator_imports(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    before = await counts(other_db_url)
    for login in ("eulex.prosecutor", "kfor.j2", "admin"):
        with pytest.raises(Exception, match="receiving agency"):
            await act(other_db_url, login, lambda s, a: import_package(s, actor=a, directory=package))
    assert await counts(other_db_url) == before


async def test_export_refuses_unfinished_handovers_and_outsiders(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    hid, _ = await work_to_reviewed(client)
    with pytest.raises(Exception, match="completed"):
        await act(
            db_url,
            IN,
            lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=tmp_path / "x"),
        )
    with pytest.raises(Exception, match="handover not found"):
        await act(
            db_url,
            "kfor.j2",
            lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=tmp_path / "y"),
        )
    assert not (tmp_path / "x").exists()


async def test_nohost_material_never_reaches_a_host_nation_receiver(
    client: httpx.AsyncClient, db_url: str
) -> None:
    response = await client.post(
        "/api/v1/handovers",
        json={
            "title": "UNMIK to Kosovo Police",
            "incoming_agency": "KP",
            "theatre": "KOS",
            "cut_off": "2030-01-01",
        },
        headers=auth(OUT),
    )
    assert response.status_code == 201, response.text
    hid = response.json()["id"]
    await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))
    giver = await lines(client, hid, OUT)
    receiver = await lines(client, hid, "kp.investigator")
    hidden = [line for line in giver if line["disposition"] == "withheld" and "NOHOST" in line["reason"]]
    assert hidden, "the demo has UNMIK NOHOST material"
    assert {line["id"] for line in hidden}.isdisjoint({line["id"] for line in receiver})
    assert len(receiver) == len(giver) - len(hidden)
    seen = (await client.get(f"/api/v1/handovers/{hid}", headers=auth("kp.investigator"))).json()
    assert sum(seen["line_counts"].values()) == len(receiver)
    report = (await client.get(f"/api/v1/handovers/{hid}/report", headers=auth("kp.investigator"))).json()
    assert "NOHOST" not in str(report)
    for line in hidden:
        tried = await client.post(
            f"/api/v1/handovers/{hid}/lines/{line['id']}/decide",
            json={"disposition": "accepted"},
            headers=auth("kp.investigator"),
        )
        assert tried.status_code == 404


async def test_a_package_in_many_parts_verifies_and_imports_whole(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    # Parts of one byte: every record and every line starts a part of its own.
    _, summary = await exported(client, db_url, package, part_bytes=1)
    parts = sorted((package / "data" / "records").glob("*/part-*.jsonl"))
    assert len(parts) == summary.records > 1
    assert all(len(p.read_bytes().splitlines()) == 1 for p in parts)
    assert len(list((package / "data" / "lines").glob("part-*.jsonl"))) > 1
    bagit.Bag(str(package)).validate()
    check = verify_package(package)
    assert check.ok, check.problems
    assert check.records == summary.records
    assert check.info["Ocpo-Format"] == FORMAT

    done = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert done.created == summary.records
    index_in_step(other_db_url)


async def exported_and_rebagged(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, fmt: str, payload: Callable[[Path], None]
) -> tuple[Path, Any]:
    """A completed handover's package, its payload changed by ``payload`` and bagged
    again as ``fmt``: the changed package and the original export's summary."""
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    changed = tmp_path / "changed"
    rebag(package, changed, fmt, payload)
    return changed, summary


async def test_a_package_of_an_unknown_format_names_it_and_imports_nothing(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    future, _ = await exported_and_rebagged(
        client, db_url, tmp_path, "ocpo-coord handover package 99", lambda _: None
    )
    check = verify_package(future)
    assert not check.ok
    assert any("'ocpo-coord handover package 99'" in p and FORMAT in p for p in check.problems), (
        check.problems
    )
    before = await counts(other_db_url)
    with pytest.raises(InvalidPackage, match="ocpo-coord handover package 99"):
        await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=future))
    assert await counts(other_db_url) == before


def _as_format_1(data: Path) -> None:
    """Format 1: one JSON file per record, the lines inside handover.json."""
    for part in sorted(data.glob("records/*/part-*.jsonl")):
        for line in part.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            (part.parent / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
        part.unlink()
    manifest = json.loads((data / "handover.json").read_text(encoding="utf-8"))
    manifest["format"] = FORMAT_1
    manifest["lines"] = [
        json.loads(line)
        for part in sorted((data / "lines").glob("part-*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    (data / "handover.json").write_text(json.dumps(manifest), encoding="utf-8")
    shutil.rmtree(data / "lines")


async def test_a_package_of_format_1_still_imports(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    old, summary = await exported_and_rebagged(client, db_url, tmp_path, FORMAT_1, _as_format_1)
    assert not list(old.glob("data/records/*/part-*.jsonl"))
    check = verify_package(old)
    assert check.ok, check.problems
    assert check.records == summary.records
    done = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=old))
    assert done.created == summary.records
    assert (await counts(other_db_url))["record"] == summary.records
    index_in_step(other_db_url)


def _in_a_missing_restricted_case(data: Path) -> None:
    """The first record now says it belongs to a restricted case the package lacks."""
    part = sorted(data.glob("records/*/part-*.jsonl"))[0]
    lines = part.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["restricted_case_id"] = str(uuid.uuid4())
    part.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n", encoding="utf-8")


async def test_a_record_of_a_restricted_case_left_behind_is_refused(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    """Imported without its case, the record would be readable beyond the case's members."""
    orphan, _ = await exported_and_rebagged(client, db_url, tmp_path, FORMAT, _in_a_missing_restricted_case)
    assert verify_package(orphan).ok
    before = await counts(other_db_url)
    with pytest.raises(InvalidPackage, match=r"restricted case .* not in the package"):
        await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=orphan))
    assert await counts(other_db_url) == before


async def test_export_refuses_when_the_exporter_may_not_read_every_record(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    hid = await completed_handover(client)
    hidden_from_prosecutor = [
        line
        for line in await lines(client, hid, "eulex.prosecutor")
        # A stub (a line whose record the reader may not read) names no kind.
        if line["disposition"] == "accepted" and not line["readable"]
    ]
    assert hidden_from_prosecutor, "the demo moves records above a CONFIDENTIAL clearance"
    target = tmp_path / "package"
    with pytest.raises(Exception, match="transferred records are not readable by you") as refused:
        await act(
            db_url,
            "eulex.prosecutor",
            lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=target),
        )
    assert str(refused.value).startswith(f"{len(hidden_from_prosecutor)} transferred records")
    # Nothing is left behind, not even part of the payload.
    assert not target.exists() or not any(target.iterdir())


def _with_repeated_releases(data: Path) -> None:
    """Every record names its agencies and readers twice, as a package exported by an
    installation that held a release twice does."""
    for part in sorted(data.glob("records/*/part-*.jsonl")):
        records = [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
        for record in records:
            markings = record["markings"]
            markings["releasable_to"] = markings.get("releasable_to", []) * 2
            markings["named_readers"] = markings.get("named_readers", []) * 2
        part.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


async def test_a_target_named_twice_is_released_once(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    twice, summary = await exported_and_rebagged(client, db_url, tmp_path, FORMAT, _with_repeated_releases)
    assert verify_package(twice).ok
    done = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=twice))
    assert done.created == summary.records
    released = await rows(other_db_url, select(RecordRelease.record_id, RecordRelease.agency_id))
    assert released
    assert len(released) == len(set(released))
    index_in_step(other_db_url)


async def test_two_first_uses_at_once_agree_on_one_identity(db_url: str) -> None:
    """The identity is made at its first use; a second use while the first has not
    committed waits for it and takes the same identity, never one of its own."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            await session.exec(delete(Installation))
            await session.commit()
        made = asyncio.Event()

        async def first() -> str:
            async with sessionmaker_for(engine)() as session:
                identity = await installation_identity(session)
                made.set()
                await asyncio.sleep(0.5)  # the second use comes meanwhile
                await session.commit()
                return identity

        async def second() -> str:
            await made.wait()
            async with sessionmaker_for(engine)() as session:
                identity = await installation_identity(session)
                await session.commit()
                return identity

        ours, theirs = await asyncio.gather(first(), second())
        assert ours == theirs
        async with sessionmaker_for(engine)() as session:
            assert (await session.exec(select(func.count()).select_from(Installation))).one() == 1
    finally:
        await engine.dispose()
