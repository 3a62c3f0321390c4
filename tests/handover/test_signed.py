"""Signed packages, as an attacker would try them: a package proves which installation
sent it and, with the audit log's checkpoint and inclusion proofs, what that
installation recorded about each record it hands over. Proofs are checked again with
pymerkle, an implementation not written here."""

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import bagit
import httpx
import psycopg
import pytest
from pymerkle import InmemoryTree, verify_inclusion
from sqlmodel import col, select
from typer.testing import CliRunner

from ocpo_coord.app import create_app
from ocpo_coord.audit import merkle
from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.audit.note import Checkpoint, Note, Signer, Verifier
from ocpo_coord.audit.sequencer import SEQUENCER_LOCK_KEY
from ocpo_coord.cli import app as cli_app
from ocpo_coord.config import get_settings
from ocpo_coord.db.engine import make_async_engine, make_sync_engine, sessionmaker_for
from ocpo_coord.handover import proof_export, trust
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import import_package
from ocpo_coord.handover.package import InvalidPackage
from ocpo_coord.handover.package_proof import CHECKPOINT, PROOFS
from ocpo_coord.handover.signature import SIGNATURE, sign_package
from ocpo_coord.models import AuditEvent, HandoverImportProof, ImportedRecord, Record
from tests.conftest import auth
from tests.fixtures.audit_log import entry_bytes_in_log_order, integrate
from tests.fixtures.databases import _libpq
from tests.fixtures.handover import IN, act, completed_handover, counts, exported
from tests.fixtures.queries import rows

ADMIN = "admin"


def _own_key() -> str:
    return checkpoint_signer(get_settings()).verifier().text()


def _proof_lines(package: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for part in sorted((package / "data" / PROOFS).glob("part-*.jsonl"))
        for line in part.read_text(encoding="utf-8").splitlines()
    ]


def _rebagged(package: Path, target: Path, change: Callable[[Path], None], signer: Signer | None) -> Path:
    """A copy whose payload ``change`` alters, with every manifest computed again (bagit
    then finds nothing wrong); signed by ``signer``, or keeping the original signature."""
    shutil.copytree(package / "data", target)
    change(target)
    info = dict(bagit.Bag(str(package)).info)
    for name in ("Bagging-Date", "Payload-Oxum", "Bag-Software-Agent"):
        info.pop(name, None)
    bagit.make_bag(str(target), bag_info=info, checksums=["sha256"])
    if signer is None:
        shutil.copyfile(package / SIGNATURE, target / SIGNATURE)
    else:
        sign_package(target, signer, handover=str(info["External-Identifier"]))
    bagit.Bag(str(target)).validate()
    return target


def _verify_cli(package: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["handover", "verify", str(package), *extra])
    return result.exit_code, result.output


async def _refused(url: str, package: Path, match: str) -> None:
    before = await counts(url)
    with pytest.raises(InvalidPackage, match=match):
        await act(url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert await counts(url) == before


@pytest.fixture
async def receiver(other_db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The receiving installation, over HTTP."""
    application = create_app(database_url=other_db_url)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as http:
        yield http
    await application.state.sessionmaker.kw["bind"].dispose()


@pytest.mark.parametrize("batches", [None, (3, 5)], ids=["default-batches", "tiny-batches"])
async def test_a_package_is_signed_and_proves_its_records_entries_as_pymerkle_checks_them(
    client: httpx.AsyncClient,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batches: tuple[int, int] | None,
) -> None:
    if batches is not None:
        # Records found a few at a time and proofs made a few at a time: every chunk and
        # window boundary falls inside the package.
        monkeypatch.setattr(proof_export, "_RECORDS_PER_QUERY", batches[0])
        monkeypatch.setattr(proof_export, "_ENTRIES_PER_WINDOW", batches[1])
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    bagit.Bag(str(package)).validate()
    # The signature is outside the manifests: it signs the tag manifest itself.
    assert SIGNATURE not in (package / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    signer = checkpoint_signer(get_settings()).verifier()
    assert summary.signed_by == f"{signer.name} (key {signer.key_id.hex()})"

    code, output = _verify_cli(package, "--key", _own_key())
    assert code == 0, output
    assert f"signed by {signer.name} (key {signer.key_id.hex()})" in output
    assert f"audit checkpoint of size {summary.checkpoint_size}" in output
    assert f"{summary.proofs} inclusion proof(s) checked" in output

    note = Note.parse((package / "data" / CHECKPOINT).read_text(encoding="utf-8"))
    note.signed_by(signer)
    checkpoint = Checkpoint.parse(note.text)
    log = make_sync_engine(db_url)
    try:
        entries = entry_bytes_in_log_order(log)
    finally:
        log.dispose()
    tree = InmemoryTree(algorithm="sha256")
    for entry in entries[: checkpoint.size]:
        tree.append_entry(entry)
    assert tree.get_root(checkpoint.size) == checkpoint.root
    proofs = _proof_lines(package)
    assert len(proofs) == summary.proofs > 0
    records = {
        json.loads(line)["id"]
        for part in (package / "data" / "records").glob("*/part-*.jsonl")
        for line in part.read_text(encoding="utf-8").splitlines()
    }
    for proof in proofs:
        entry = str(proof["entry"]).encode()
        assert entries[int(str(proof["index"]))] == entry
        assert json.loads(entry)["record_id"] == proof["record_id"] in records
        leaf = merkle.leaf_hash(entry)
        path = [base64.b64decode(h) for h in proof["hashes"]]  # type: ignore[attr-defined]
        theirs = tree.prove_inclusion(int(str(proof["index"])) + 1, checkpoint.size)
        assert [bytes.fromhex(h) for h in theirs.serialize()["path"]] == [leaf, *path]
        verify_inclusion(leaf, checkpoint.root, theirs)
    # Every entry about a record in the package, and each once.
    about = [
        index
        for index, entry in enumerate(entries[: checkpoint.size])
        if json.loads(entry).get("record_id") in records
    ]
    assert sorted(int(str(p["index"])) for p in proofs) == about
    # Every record the handover created has its creation among the proofs.
    created = {
        str(record_id)
        for record_id in await rows(
            db_url, select(AuditEvent.record_id).where(col(AuditEvent.action).endswith(".create"))
        )
    }
    assert {p["record_id"] for p in proofs} >= records & created


async def test_the_receiver_keeps_the_proofs_once_and_shows_them_to_readers_of_the_record(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, receiver: httpx.AsyncClient, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _, summary = await exported(client, db_url, package)
    first = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    kept = await rows(other_db_url, select(HandoverImportProof.record_id, HandoverImportProof.entry))
    assert len(kept) == summary.proofs
    again = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert again.already_imported
    assert again.created == 0
    assert len(await rows(other_db_url, select(HandoverImportProof.id))) == summary.proofs

    # The most protected record among them: host-nation police may not read it.
    marked = await rows(
        other_db_url,
        select(Record.id, Record.classification).where(col(Record.id).in_([k for k, _ in kept])),
    )
    target = str(max(marked, key=lambda row: int(row[1]))[0])
    source = next(k for k, v in first.id_map.items() if v == target)
    shown = await receiver.get(f"/api/v1/handover-proofs/{target}", headers=auth(IN))
    assert shown.status_code == 200, shown.text
    [item] = shown.json()
    assert item["source_record_id"] == source
    assert item["signed_by"] == _own_key()
    checkpoint = Checkpoint.parse(Note.parse(item["checkpoint"]).text)
    for entry in item["entries"]:
        assert json.loads(entry["entry"])["record_id"] == source
        merkle.verify_inclusion(
            merkle.leaf_hash(entry["entry"].encode()),
            entry["leaf_index"],
            checkpoint.size,
            [base64.b64decode(h) for h in entry["hashes"]],
            checkpoint.root,
        )
    # Someone who may not read the record is told it does not exist.
    hidden = await receiver.get(f"/api/v1/handover-proofs/{target}", headers=auth("kp.investigator"))
    assert hidden.status_code == 404
    read = await rows(
        other_db_url, select(AuditEvent.actor_name).where(AuditEvent.action == "handover.read_proofs")
    )
    assert len(read) == 1
    assert len(await rows(other_db_url, select(ImportedRecord.id))) == summary.records


async def test_a_changed_record_with_its_manifests_recomputed_fails_the_signature(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)

    def one_byte(data: Path) -> None:
        part = sorted(data.glob("records/case/part-*.jsonl"))[0]
        raw = bytearray(part.read_bytes())
        at = raw.index(b'"title":"') + len(b'"title":"')
        raw[at] = ord("X") if raw[at] != ord("X") else ord("Y")
        part.write_bytes(bytes(raw))

    bad = _rebagged(package, tmp_path / "bad", one_byte, signer=None)
    code, output = _verify_cli(bad, "--key", _own_key())
    assert code == 1
    assert "changed after it was signed" in output
    await _refused(other_db_url, bad, "changed after it was signed")


async def test_an_unsigned_package_or_one_signed_by_an_unknown_key_is_refused(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    unsigned = tmp_path / "unsigned"
    shutil.copytree(package, unsigned)
    (unsigned / SIGNATURE).unlink()
    code, output = _verify_cli(unsigned, "--key", _own_key())
    assert code == 1
    assert "unsigned" in output
    await _refused(other_db_url, unsigned, "unsigned")

    rogue = Signer.generate("rogue-installation")
    resigned = _rebagged(package, tmp_path / "resigned", lambda _: None, signer=rogue)
    await _refused(other_db_url, resigned, "signed by rogue-installation .* not registered here")
    # Given the rogue key, the signature holds, but the checkpoint is not the rogue's.
    code, output = _verify_cli(resigned, "--key", rogue.verifier().text())
    assert code == 1
    assert "audit/checkpoint.txt: a checkpoint of" in output
    assert "rogue-installation" in output


async def test_a_checkpoint_from_another_log_or_key_is_refused_even_when_signed(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    own = checkpoint_signer(get_settings())
    original = Checkpoint.parse(Note.parse((package / "data" / CHECKPOINT).read_text(encoding="utf-8")).text)

    def checkpoint_by(signer: Signer) -> Callable[[Path], None]:
        def change(data: Path) -> None:
            body = Checkpoint(signer.name, original.size, original.root).text()
            (data / CHECKPOINT).write_text(body + "\n" + signer.sign_line(body), encoding="utf-8")

        return change

    other = _rebagged(package, tmp_path / "other", checkpoint_by(Signer.generate("kfor-installation")), own)
    await _refused(other_db_url, other, "checkpoint of 'kfor-installation'")
    forged = _rebagged(package, tmp_path / "forged", checkpoint_by(Signer.generate(own.name)), own)
    await _refused(other_db_url, forged, "not signed by the key that signed the package")
    # Replaced without signing again: the signature no longer covers the package.
    swapped = _rebagged(package, tmp_path / "swapped", checkpoint_by(Signer.generate("kfor")), None)
    await _refused(other_db_url, swapped, "changed after it was signed")


async def test_a_dropped_or_altered_proof_is_named(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    own = checkpoint_signer(get_settings())

    def drop_first(data: Path) -> None:
        part = sorted((data / PROOFS).glob("part-*.jsonl"))[0]
        part.write_text("".join(part.read_text(encoding="utf-8").splitlines(keepends=True)[1:]))

    await _refused(other_db_url, _rebagged(package, tmp_path / "a", drop_first, None), "changed after it")
    dropped = _rebagged(package, tmp_path / "b", drop_first, own)
    await _refused(other_db_url, dropped, "Ocpo-Proof-Count says")

    def bend_first(data: Path) -> None:
        part = sorted((data / PROOFS).glob("part-*.jsonl"))[0]
        lines = part.read_text(encoding="utf-8").splitlines()
        proof = json.loads(lines[0])
        proof["hashes"][0] = base64.b64encode(bytes(32)).decode()
        part.write_text("\n".join([json.dumps(proof), *lines[1:]]) + "\n", encoding="utf-8")

    bent = _rebagged(package, tmp_path / "c", bend_first, own)
    code, output = _verify_cli(bent, "--key", _own_key())
    assert code == 1
    assert output.splitlines()[-1].startswith(
        f"invalid: {PROOFS}/part-0001.jsonl line 1: inclusion proof does not lead to the root"
    )
    await _refused(other_db_url, bent, "does not lead to the root")


async def test_only_installation_administrators_manage_trust_and_a_revoked_key_is_refused(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, receiver: httpx.AsyncClient, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    await exported(client, db_url, package)
    # On the receiver, registered by its setup; an agency administrator may not touch it.
    listed = await receiver.get("/api/v1/handover-trust", headers=auth(ADMIN))
    assert listed.status_code == 200, listed.text
    assert [(t["verifier_key"], t["revoked_at"]) for t in listed.json()] == [(_own_key(), None)]
    assert (await receiver.get("/api/v1/handover-trust", headers=auth(IN))).status_code == 403
    name = checkpoint_signer(get_settings()).name
    refused = await receiver.post(f"/api/v1/handover-trust/{name}/revoke", headers=auth(IN))
    assert refused.status_code == 403
    revoked = await receiver.post(f"/api/v1/handover-trust/{name}/revoke", headers=auth(ADMIN))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    await _refused(other_db_url, package, "not registered here")

    again = await receiver.post(
        "/api/v1/handover-trust", json={"verifier_key": _own_key()}, headers=auth(ADMIN)
    )
    assert again.status_code == 409
    garbled = await receiver.post(
        "/api/v1/handover-trust", json={"verifier_key": "no+key+here"}, headers=auth(ADMIN)
    )
    assert garbled.status_code == 422
    assert "verifier_key" in garbled.text
    new = Signer.generate(name)
    added = await receiver.post(
        "/api/v1/handover-trust", json={"verifier_key": new.verifier().text()}, headers=auth(ADMIN)
    )
    assert added.status_code == 201, added.text
    assert added.json()["key_id"] == new.verifier().key_id.hex()
    await _refused(other_db_url, package, "not registered here")
    actions = await rows(
        other_db_url, select(AuditEvent.action).where(col(AuditEvent.action).startswith("handover.trust"))
    )
    assert sorted(actions) == [
        "handover.trust_add",
        "handover.trust_list",
        "handover.trust_revoke",
    ]


def _cli(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it: its own process, so nothing it caches (an
    engine and its pooled connections) outlives it in the test's."""
    return subprocess.run(
        [sys.executable, "-m", "ocpo_coord.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OCPO_DATABASE_URL": url},
        timeout=120,
        check=False,
    )


def test_trust_on_the_command_line(other_db_url: str) -> None:
    key = _cli(["handover", "key"], other_db_url)
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip() == _own_key()
    name = checkpoint_signer(get_settings()).name
    denied = _cli(["handover", "trust", "revoke", name, "--as", IN], other_db_url)
    assert denied.returncode == 1
    assert "installation administrator" in denied.stderr + denied.stdout
    done = _cli(["handover", "trust", "revoke", name, "--as", ADMIN], other_db_url)
    assert done.returncode == 0, done.stderr
    listed = _cli(["handover", "trust", "list", "--as", ADMIN], other_db_url)
    assert json.loads(listed.stdout)[0]["revoked_at"] is not None
    bad = _cli(["handover", "trust", "add", "nonsense", "--as", ADMIN], other_db_url)
    assert bad.returncode == 1
    assert "verifier_key" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr + bad.stdout
    new = Signer.generate("unmik-installation").verifier().text()
    added = _cli(["handover", "trust", "add", new, "--as", ADMIN], other_db_url)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "unmik-installation"
    assert [v.name for v in asyncio.run(_trusted(other_db_url))] == ["unmik-installation"]


async def _trusted(url: str) -> list[Verifier]:
    receiving = make_async_engine(url)
    try:
        async with sessionmaker_for(receiving)() as session:
            return await trust.trusted_verifiers(session)
    finally:
        await receiving.dispose()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_while_another_process_sequences_the_export_waits_for_it_and_proves_its_entries(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    """A sequencer leads elsewhere (it holds the lock): the export does not integrate
    the queue itself, it waits until the leader has, then proves the entries."""
    hid = await completed_handover(client)
    lock = await psycopg.AsyncConnection.connect(_libpq(db_url), autocommit=True)
    try:
        await lock.execute("SELECT pg_advisory_lock(%s)", (SEQUENCER_LOCK_KEY,))

        async def leader() -> int:
            await asyncio.sleep(1.0)
            return await integrate(db_url)

        integrated, summary = await asyncio.gather(
            leader(),
            act(
                db_url,
                IN,
                lambda s, a: export_handover(
                    s, actor=a, handover_id=uuid.UUID(hid), directory=tmp_path / "p"
                ),
            ),
        )
    finally:
        await lock.close()
    assert integrated > 0, "the entries were left for the leader"
    assert summary.proofs > 0
    checkpoint = Checkpoint.parse(Note.parse((tmp_path / "p" / "data" / CHECKPOINT).read_text()).text)
    assert checkpoint.size == summary.checkpoint_size
    code, output = _verify_cli(tmp_path / "p", "--key", _own_key())
    assert code == 0, output
