"""``handover verify`` runs the import's checks: a package whose manifests were recomputed
over broken records fails verification, named, before any import is tried."""

import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import bagit
import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner

from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.audit.service import record_event
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.cli import app as cli_app
from ocpo_coord.config import get_settings
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.handover import importer
from ocpo_coord.handover.importer import ImportSummary, import_package
from ocpo_coord.handover.package import FORMAT, FORMAT_3, InvalidPackage
from ocpo_coord.handover.package_shape import verify
from ocpo_coord.handover.signature import sign_package
from tests.fixtures.handover import IN, act, counts, exported, rebag


def _first_record(data: Path, change: Callable[[str], str]) -> None:
    part = sorted(data.glob("records/case/part-*.jsonl"))[0]
    lines = part.read_text(encoding="utf-8").splitlines()
    part.write_text("\n".join([change(lines[0]), *lines[1:]]) + "\n", encoding="utf-8")


def _broken_json(data: Path) -> None:
    _first_record(data, lambda line: line[: len(line) // 2])


def _unknown_classification(data: Path) -> None:
    def change(line: str) -> str:
        record = json.loads(line)
        record["markings"]["classification"] = "COSMIC TOP SECRET"
        return json.dumps(record)

    _first_record(data, change)


def _lost_line(data: Path) -> None:
    part = sorted(data.glob("lines/part-*.jsonl"))[0]
    lines = part.read_text(encoding="utf-8").splitlines()
    line = json.loads(lines[0])
    line["disposition"] = "lost"
    part.write_text("\n".join([json.dumps(line), *lines[1:]]) + "\n", encoding="utf-8")


def _untitled_position(data: Path) -> None:
    positions = json.loads((data / "positions.json").read_text(encoding="utf-8"))
    positions[0].pop("title")
    (data / "positions.json").write_text(json.dumps(positions), encoding="utf-8")


def importing(
    directory: Path, store: FileStore | None = None
) -> Callable[[AsyncSession, Actor], Awaitable[ImportSummary]]:
    async def work(session: AsyncSession, actor: Actor) -> ImportSummary:
        return await import_package(session, actor=actor, directory=directory, store=store)

    return work


BROKEN = {
    "broken_json": (_broken_json, "records/case/part-0001.jsonl line 1: not JSON"),
    "classification": (
        _unknown_classification,
        "records/case/part-0001.jsonl line 1: not a valid case record",
    ),
    "disposition": (_lost_line, "lines/part-0001.jsonl line 1: not a valid handover line"),
    "position": (_untitled_position, "positions.json item 1: title"),
}


async def test_verify_parses_every_record_line_and_file_the_import_reads(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    assert verify(package).ok
    before = await counts(other_db_url)
    for name, (change, expected) in BROKEN.items():
        bad = tmp_path / name
        rebag(package, bad, FORMAT, change)
        # Signed by the sender, whose key the verifier is given: what is left is the payload.
        own = checkpoint_signer(get_settings()).verifier().text()
        result = CliRunner().invoke(cli_app, ["handover", "verify", str(bad), "--key", own])
        assert result.exit_code == 1, (name, result.output)
        assert expected in result.output, (name, result.output)
        assert "Traceback" not in result.output
        with pytest.raises(InvalidPackage) as refused:
            await act(other_db_url, IN, importing(bad))
        assert expected in refused.value.message, (name, refused.value.message)
    assert await counts(other_db_url) == before


async def test_a_rehearsed_import_checks_everything_and_writes_nothing(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    before = await counts(other_db_url)
    engine = make_async_engine(other_db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            actor = Actor(principal=await load_principal(session, IN))
            rehearsed = await import_package(session, actor=actor, directory=package, dry_run=True)
            await session.rollback()
    finally:
        await engine.dispose()
    assert rehearsed.created == summary.records
    assert await counts(other_db_url) == before


async def test_an_import_that_fails_after_copying_its_files_leaves_no_file_behind(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    carried = sorted(p.name for p in (package / "data" / "files").iterdir())
    assert carried
    store = FileStore(tmp_path / "store")
    real = record_event

    async def killed(session: AsyncSession, **kwargs: Any) -> Any:
        # The last step before the commit: every file has been copied by now.
        if kwargs.get("action") == "handover.import":
            raise RuntimeError("killed")
        return await real(session, **kwargs)

    monkeypatch.setattr(importer, "record_event", killed)
    with pytest.raises(RuntimeError, match="killed"):
        await act(other_db_url, IN, importing(package, store))
    assert [p for p in store.root.rglob("*") if p.is_file()] == []
    monkeypatch.setattr(importer, "record_event", real)
    await act(other_db_url, IN, importing(package, store))
    assert all(store.holds(digest) for digest in carried)
    assert sorted(p.name for p in store.root.rglob("*") if p.is_file()) == carried


async def test_a_package_of_format_3_without_entities_still_imports(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    entities = summary.counts.get("entity", 0)
    older = tmp_path / "format-3"
    shutil.copytree(package / "data", older)
    shutil.rmtree(older / "records" / "entity")
    info = dict(bagit.Bag(str(package)).info)
    info |= {"Ocpo-Format": FORMAT_3, "Ocpo-Record-Count": str(summary.records - entities)}
    for name in ("Bagging-Date", "Payload-Oxum", "Bag-Software-Agent"):
        info.pop(name, None)
    bagit.make_bag(str(older), bag_info=info, checksums=["sha256"])
    sign_package(older, checkpoint_signer(get_settings()), handover=str(info["External-Identifier"]))
    assert verify(older).ok, verify(older).problems
    done = await act(other_db_url, IN, importing(older))
    assert done.created == summary.records - entities
