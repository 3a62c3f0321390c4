"""Checkpoints, proofs and witnesses of the audit log, over HTTP with real tokens, and
checked with code not written here (pymerkle for the tree, the C2SP formats)."""

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymerkle import InmemoryTree, verify_consistency, verify_inclusion
from sqlalchemy import Engine, create_engine, text

from ocpo_coord.audit import merkle
from ocpo_coord.audit.note import COSIGNATURE_V1, Checkpoint, Note, Signer, Verifier
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.audit.witness import WitnessError, WitnessRefusal, witness
from ocpo_coord.config import get_settings
from ocpo_coord.db.engine import make_sync_engine, sync_url
from tests.conftest import auth, gql
from tests.fixtures.audit_log import entry_bytes_in_log_order, integrate

ROOT = Path(__file__).resolve().parents[2]
EULEX_KEY = ROOT / "seed" / "witnesses" / "eulex.key"
KFOR_KEY = ROOT / "seed" / "witnesses" / "kfor.key"
NEW_CASE = {
    "title": "Log test case",
    "summary": "s",
    "theatre": "KOS",
    "crime_types": ["smuggling"],
    "markings": {"classification": "RESTRICTED", "tlp": "AMBER"},
}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    # SQLite without the service's pragmas: whoever edits the file has no foreign keys.
    value = create_engine(sync_url(db_url)) if db_url.startswith("sqlite") else make_sync_engine(db_url)
    yield value
    value.dispose()


def _pymerkle(entries: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for entry in entries:
        tree.append_entry(entry)
    return tree


async def _checkpoint(client: httpx.AsyncClient, login: str = "kp.investigator") -> Note:
    response = await client.get("/api/v1/audit/checkpoint", headers=auth(login))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Note.parse(response.text)


async def _log_verifier(client: httpx.AsyncClient) -> Verifier:
    response = await client.get("/api/v1/audit/log-key", headers=auth("kp.investigator"))
    assert response.status_code == 200
    return Verifier.parse(response.text)


async def _write(client: httpx.AsyncClient, n: int) -> None:
    for i in range(n):
        created = await client.post(
            "/api/v1/cases", json={**NEW_CASE, "title": f"Log test case {i}"}, headers=auth("unmik.analyst")
        )
        assert created.status_code == 201, created.text


async def test_any_signed_in_user_gets_a_signed_checkpoint_whose_root_pymerkle_recomputes(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    assert (await client.get("/api/v1/audit/checkpoint")).status_code == 401
    await integrate(db_url)
    note = await _checkpoint(client, "kp.investigator")  # host nation: a size and a hash only
    verifier = await _log_verifier(client)
    note.signed_by(verifier)
    checkpoint = Checkpoint.parse(note.text)
    assert checkpoint.origin == get_settings().installation_name == verifier.name
    entries = entry_bytes_in_log_order(engine)
    assert checkpoint.size == len(entries) > 50
    assert checkpoint.root == _pymerkle(entries).get_root(checkpoint.size)
    body = await gql(client, "kp.investigator", "{ auditCheckpoint { size rootHash note cosignedBy } }")
    shown = body["data"]["auditCheckpoint"]
    assert shown["size"] == checkpoint.size
    assert base64.b64decode(shown["rootHash"]) == checkpoint.root
    assert shown["note"] == note.text + "\n" + "".join(s.line for s in note.signatures)


async def _visible_entries(client: httpx.AsyncClient, login: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit-events", params={"limit": 100}, headers=auth(login))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _parse_proof(text_: str) -> tuple[int, list[bytes], Note]:
    head, _, note = text_.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("index ")
    return int(lines[1][6:]), [base64.b64decode(line) for line in lines[2:]], Note.parse(note)


async def test_an_inclusion_proof_is_for_whoever_may_read_the_entry_and_pymerkle_accepts_it(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    await _write(client, 3)
    await integrate(db_url)
    verifier = await _log_verifier(client)
    entries = entry_bytes_in_log_order(engine)
    tree = _pymerkle(entries)
    chief = await _visible_entries(client, "unmik.chief")
    for entry in chief[:5]:
        response = await client.get(f"/api/v1/audit/entries/{entry['id']}/proof", headers=auth("unmik.chief"))
        assert response.status_code == 200, response.text
        index, path, note = _parse_proof(response.text)
        note.signed_by(verifier)
        checkpoint = Checkpoint.parse(note.text)
        leaf = merkle.leaf_hash(entries[index])
        assert leaf.hex() == entry["hash"]
        merkle.verify_inclusion(leaf, index, checkpoint.size, path, checkpoint.root)
        theirs = tree.prove_inclusion(index + 1, checkpoint.size)
        assert [bytes.fromhex(h) for h in theirs.serialize()["path"]] == [leaf, *path]
        verify_inclusion(leaf, checkpoint.root, theirs)
    # Someone who may not read the entry is told it does not exist, like a random id.
    missing = await client.get(f"/api/v1/audit/entries/{uuid.uuid4()}/proof", headers=auth("unmik.chief"))
    assert missing.status_code == 404
    hidden = None
    for entry in chief:
        if entry["record_kind"] == "case" and entry["record_id"]:
            read = await client.get(f"/api/v1/cases/{entry['record_id']}", headers=auth("eulex.chief"))
            if read.status_code == 404:
                hidden = entry
                break
    assert hidden is not None
    for login in ("eulex.chief", "unmik.analyst", "kp.investigator", "admin"):
        refused = await client.get(f"/api/v1/audit/entries/{hidden['id']}/proof", headers=auth(login))
        assert refused.status_code == 404, login
        assert refused.json()["detail"] == missing.json()["detail"]


async def test_a_pending_entry_is_listed_before_it_has_a_proof(
    client: httpx.AsyncClient, db_url: str
) -> None:
    """Lists show entries as they are written (in insertion order, newest first); the
    proof comes once the sequencer has integrated the entry."""
    await integrate(db_url)
    await _write(client, 1)
    newest = (await _visible_entries(client, "unmik.chief"))[0]
    assert newest["action"] == "case.create"
    pending = await client.get(f"/api/v1/audit/entries/{newest['id']}/proof", headers=auth("unmik.chief"))
    assert pending.status_code == 409
    await integrate(db_url)
    ready = await client.get(f"/api/v1/audit/entries/{newest['id']}/proof", headers=auth("unmik.chief"))
    assert ready.status_code == 200


async def test_consistency_proofs_between_sizes_verify_here_and_with_pymerkle(
    client: httpx.AsyncClient, db_url: str, engine: Engine
) -> None:
    await integrate(db_url)
    first = Checkpoint.parse((await _checkpoint(client)).text)
    await _write(client, 5)
    await integrate(db_url)
    second = Checkpoint.parse((await _checkpoint(client)).text)
    tree = _pymerkle(entry_bytes_in_log_order(engine))
    for old in (1, 2, 3, 7, 64, first.size):
        response = await client.get(
            "/api/v1/audit/consistency",
            params={"first": old, "second": second.size},
            headers=auth("kp.investigator"),
        )
        assert response.status_code == 200, response.text
        proof = [base64.b64decode(line) for line in response.text.splitlines()]
        merkle.verify_consistency(old, second.size, proof, tree.get_root(old), second.root)
        verify_consistency(tree.get_root(old), second.root, tree.prove_consistency(old, second.size))
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first.size, second.size, proof, tree.get_root(first.size - 1), second.root)
    too_far = await client.get(
        "/api/v1/audit/consistency",
        params={"first": 1, "second": second.size + 1},
        headers=auth("kp.investigator"),
    )
    assert too_far.status_code == 422
    assert too_far.json()["detail"]["field"] == "second"


def _tamper(engine: Engine, *statements: str) -> None:
    """What an operator holding the database does: triggers and foreign keys off."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for name in (
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            ):
                if name.startswith("audit_") and name != "audit_event_queue":
                    conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(text(statement))


RECOMPUTE = (
    "DELETE FROM audit_cosignature",
    "DELETE FROM audit_checkpoint",
    "DELETE FROM audit_tree_node",
    "DELETE FROM audit_log_entry",
    "DELETE FROM audit_pending",
    "INSERT INTO audit_pending (event_seq) SELECT seq FROM audit_event",
)


async def _witness(
    client: httpx.AsyncClient, state: Path, key: Path = EULEX_KEY, login: str = "eulex.chief"
) -> str:
    signer = Signer.parse(key.read_text())  # noqa: ASYNC240 (a small file)
    client.headers["Authorization"] = auth(login)["Authorization"]
    try:
        return await witness(client, state_path=state, signer=signer)
    finally:
        del client.headers["Authorization"]


async def test_witnesses_cosign_what_extends_what_they_saw_and_refuse_a_rewritten_log(
    client: httpx.AsyncClient, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    await integrate(db_url)
    state = tmp_path / "eulex-witness.json"
    first = await _witness(client, state)
    assert "cosigned" in first
    kept = await _checkpoint(client)
    eulex = Verifier.parse(Signer.parse(EULEX_KEY.read_text()).verifier().text())
    assert kept.cosigned_by(eulex) is not None
    assert await _witness(client, tmp_path / "kfor.json", KFOR_KEY, "kfor.j2")
    await _write(client, 2)
    await integrate(db_url)
    second = await _witness(client, state)
    assert "consistent with size" in second
    listed = await client.get("/api/v1/audit/cosignatures", headers=auth("omik.adviser"))
    assert {(c["witness"], c["size"]) for c in listed.json()} >= {
        ("eulex.example/witness", Checkpoint.parse(kept.text).size),
        ("kfor.example/witness", Checkpoint.parse(kept.text).size),
    }
    latest = await _checkpoint(client)
    assert sorted(
        (await gql(client, "omik.adviser", "{ auditCheckpoint { cosignedBy } }"))["data"]["auditCheckpoint"][
            "cosignedBy"
        ]
    ) == ["eulex.example/witness"]
    size = Checkpoint.parse(latest.text).size
    # The operator edits one entry and recomputes the whole log from scratch, then lets
    # the log grow by one entry.
    _tamper(engine, "UPDATE audit_event SET actor_name = 'someone else' WHERE seq = 3", *RECOMPUTE)
    await _write(client, 1)
    await integrate(db_url)
    assert verify_database(engine).ok  # the installation's own checkpoints were recomputed too
    grown = Checkpoint.parse((await _checkpoint(client)).text).size
    before = state.read_text()
    with pytest.raises(WitnessRefusal, match=f"size {grown} is not an extension of the log of size {size}"):
        await _witness(client, state)
    assert state.read_text() == before
    # The checkpoint the witness kept catches it offline too.
    report = verify_database(engine, against=Checkpoint.parse(latest.text))
    assert "is not the one given" in report.problem or "does not match its checkpoint" in report.problem


async def test_a_witness_refuses_a_truncated_log_naming_both_sizes(
    client: httpx.AsyncClient, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    await integrate(db_url)
    state = tmp_path / "w.json"
    await _witness(client, state)
    size = Checkpoint.parse((await _checkpoint(client)).text).size
    _tamper(
        engine, *RECOMPUTE[:4], f"DELETE FROM audit_event WHERE seq > {size - 5}", RECOMPUTE[4], RECOMPUTE[5]
    )
    await integrate(db_url)
    with pytest.raises(
        WitnessRefusal, match=f"checkpoint has size {size - 5}, this witness cosigned size {size}"
    ):
        await _witness(client, state)
    against = verify_database(engine, against=Checkpoint.parse((await _checkpoint(client)).text))
    assert against.ok
    report = verify_database(engine, against=Checkpoint(get_settings().installation_name, size, b"\0" * 32))
    assert f"holds {size - 5} entries but the checkpoint kept elsewhere has {size}" in report.problem


async def test_bad_cosignatures_are_refused_with_the_reason(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    await integrate(db_url)
    note = await _checkpoint(client)
    stranger = Signer.generate("stranger.example/witness", COSIGNATURE_V1)
    kfor = Signer.parse(KFOR_KEY.read_text())
    wrong_key = Signer.generate("kfor.example/witness", COSIGNATURE_V1)
    other = Checkpoint("another-installation", 1, b"\1" * 32).text()
    cases = {
        "not a note at all": "malformed",
        note.text + "\n" + stranger.cosign_line(note.text, 1): "unknown key (stranger.example/witness)",
        note.text + "\n" + wrong_key.cosign_line(note.text, 1): "unknown key of kfor.example/witness",
        note.text + "\n" + kfor.cosign_line(note.text.replace("\n", "\nx\n", 1), 1): "does not verify",
        note.text + "\n" + kfor.sign_line(note.text): "wrong length",
        other + "\n" + kfor.cosign_line(other, 1): "not of this log",
    }
    for body, problem in cases.items():
        response = await client.post(
            "/api/v1/audit/cosignatures", json={"note": body}, headers=auth("kfor.j2")
        )
        assert response.status_code == 422, body
        detail = response.json()["detail"]
        assert detail["field"] == "note"
        assert problem in detail["message"] or problem == "malformed", detail
    listed = await client.get("/api/v1/audit/cosignatures", headers=auth("kfor.j2"))
    assert listed.json() == []
    # A state file of another log is refused before anything is signed.
    state = tmp_path / "other.json"
    state.write_text(
        '{"origin": "elsewhere", "log_key": "'
        + Signer.generate("elsewhere").verifier().text()
        + '", "size": 1, "root": "'
        + base64.b64encode(b"\0" * 32).decode()
        + '"}'
    )
    with pytest.raises(WitnessError, match="this witness watches 'elsewhere'"):
        await _witness(client, state)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 13, 64, 65, 100, 255, 256, 257, 1000])
def test_proofs_made_together_are_each_the_proof_pymerkle_makes(size: int) -> None:
    # An export makes the proofs of many entries at once, sharing the right edge's hashes.
    entries = [f"entry {i}".encode() for i in range(size)]
    tree = _pymerkle(entries)
    leaves = [merkle.leaf_hash(entry) for entry in entries]

    def subtree(level: int, idx: int) -> bytes:
        if level == 0:
            return leaves[idx]
        return merkle.node_hash(subtree(level - 1, 2 * idx), subtree(level - 1, 2 * idx + 1))

    indices = list(range(size))
    together = merkle.inclusion_proofs(indices, size, subtree)
    for index, path in zip(indices, together, strict=True):
        theirs = tree.prove_inclusion(index + 1, size)
        assert [bytes.fromhex(h) for h in theirs.serialize()["path"]] == [leaves[index], *path]
        assert path == merkle.inclusion_proof(index, size, subtree)
