"""The audit log is append-only, and ``audit verify`` catches every way of editing it:
the Merkle tree recomputed from the stored entries names the first that does not hold."""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, select, text, update
from sqlalchemy.exc import DBAPIError

from ocpo_coord.audit import verify
from ocpo_coord.audit.canonical import canonical_bytes
from ocpo_coord.audit.merkle import leaf_hash
from ocpo_coord.audit.note import Checkpoint, Signer
from ocpo_coord.audit.service import hashed_fields, record_event
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, make_sync_engine, sessionmaker_for, sync_url
from ocpo_coord.models import AuditEvent
from tests.fixtures.audit_log import integrate


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The seeded database, its entries integrated into the log. On SQLite, connections
    without the service's pragmas: foreign keys unchecked, as whoever edits the file
    behind the service's back would have them."""
    asyncio.run(integrate(db_url))
    value = create_engine(sync_url(db_url)) if db_url.startswith("sqlite") else make_sync_engine(db_url)
    yield value
    value.dispose()


def _drop_guards(conn: Connection) -> None:
    """What an administrator editing the table behind the service's back would do."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_event", "audit_log_entry"):
            conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        conn.execute(
            text("ALTER TABLE audit_log_entry DROP CONSTRAINT fk_audit_log_entry_event_seq_audit_event")
        )
        conn.execute(text("ALTER TABLE audit_pending DROP CONSTRAINT fk_audit_pending_event_seq_audit_event"))
    else:
        for table in ("audit_event", "audit_log_entry"):
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER {table}_no_delete"))


def _seqs(conn: Connection) -> list[int]:
    return [int(row[0]) for row in conn.execute(text("SELECT seq FROM audit_event ORDER BY seq"))]


def test_the_seeded_log_verifies_once_integrated(engine: Engine) -> None:
    report = verify_database(engine)
    assert report.ok, report.problem
    assert report.checked == len(_all_seqs(engine)) > 50
    assert report.pending == 0
    assert len(report.root) == 32
    assert report.checkpoints_matched == [report.checked]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET detail = 'edited'",
        "DELETE FROM audit_event",
        "UPDATE audit_log_entry SET event_seq = event_seq",
        "DELETE FROM audit_log_entry",
        "UPDATE audit_tree_node SET hash = hash",
        "DELETE FROM audit_tree_node",
        "UPDATE audit_checkpoint SET note = ''",
        "DELETE FROM audit_checkpoint",
        "DELETE FROM audit_witness",
    ],
)
def test_the_database_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    assert verify_database(engine).ok


@pytest.mark.parametrize("batch", [5000, 3])
def test_a_changed_entry_is_named(engine: Engine, batch: int) -> None:
    """With small batches the walk stops while the next batch is being read ahead."""
    assert verify_database(engine, batch=batch).checked == len(_all_seqs(engine))
    with engine.begin() as conn:
        _drop_guards(conn)
        target = _seqs(conn)[10]
        conn.execute(text("UPDATE audit_event SET detail = 'nothing to see' WHERE seq = :s"), {"s": target})
    report = verify_database(engine, batch=batch)
    assert report.bad_seq == target
    assert "changed" in report.problem
    assert report.checked == 11
    # The connection the walk stopped on is whole: it verifies again from the start.
    assert verify_database(engine, batch=batch).bad_seq == target


def _all_seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return _seqs(conn)


def test_a_deleted_entry_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        seqs = _seqs(conn)
        conn.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seqs[20]})
    report = verify_database(engine)
    assert report.bad_seq == seqs[20]
    assert f"entry {seqs[20]} (log index 20) was deleted" in report.problem


def test_an_entry_deleted_with_its_leaf_is_found_at_the_gap(engine: Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(text("DELETE FROM audit_log_entry WHERE idx = 20"))
    report = verify_database(engine)
    assert "log index 20 is missing" in report.problem


def test_a_deleted_tail_is_caught_by_the_checkpoint(engine: Engine) -> None:
    """The newest five entries and their leaves gone: the log is shorter than the size
    the installation signed."""
    with engine.begin() as conn:
        _drop_guards(conn)
        size = len(_seqs(conn))
        conn.execute(text("DELETE FROM audit_log_entry WHERE idx >= :n"), {"n": size - 5})
    report = verify_database(engine)
    assert (
        f"holds {size - 5} entries but the installation signed a checkpoint of size {size}" in report.problem
    )


def _forge(conn: Connection) -> int:
    """A copy of the first entry under another id, inserted straight into the table with
    the queue's trigger dropped; its seq."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER audit_event_queue ON audit_event"))
    else:
        conn.execute(text("DROP TRIGGER audit_event_queue"))
    columns = "at, actor_id, actor_name, agency_id, request_id, action, record_kind, record_id, before, after, detail, prev_hash"
    conn.execute(
        text(
            f"INSERT INTO audit_event (id, hash, {columns}) SELECT :fake_id, :fake_hash, {columns} "
            "FROM audit_event ORDER BY seq LIMIT 1"
        ),
        {
            "fake_id": "f" * 32 if conn.dialect.name == "sqlite" else "ffffffff-ffff-4fff-8fff-ffffffffffff",
            "fake_hash": "e" * 64,
        },
    )
    return max(_seqs(conn))


def test_an_entry_slipped_in_behind_the_sequencer_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        forged = _forge(conn)
    report = verify_database(engine)
    assert report.bad_seq == forged
    assert "in neither the log nor its queue" in report.problem


def test_an_entry_inserted_into_the_log_is_caught_by_the_checkpoint(engine: Engine) -> None:
    """Room made in the log and a forged entry's leaf slipped in, its hash right: every
    leaf still matches its entry, but the tree no longer matches the signed checkpoint."""
    events = AuditEvent.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        _drop_guards(conn)
        size = len(_seqs(conn))
        forged = _forge(conn)
        row = conn.execute(select(events).where(events.c.seq == forged)).one()
        for idx in range(size - 1, 5, -1):
            conn.execute(text("UPDATE audit_log_entry SET idx = :n WHERE idx = :o"), {"n": idx + 1, "o": idx})
        conn.execute(
            text("INSERT INTO audit_log_entry (idx, event_seq, leaf_hash) VALUES (6, :s, :h)"),
            {"s": forged, "h": leaf_hash(canonical_bytes(hashed_fields(row)))},
        )
    report = verify_database(engine)
    assert f"does not match its checkpoint of size {size}" in report.problem


def test_reordered_entries_are_named(engine: Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        seqs = _seqs(conn)
        a, b = seqs[30], seqs[31]
        conn.execute(text("UPDATE audit_log_entry SET event_seq = -1 WHERE idx = 30"))
        conn.execute(text("UPDATE audit_log_entry SET event_seq = :a WHERE idx = 31"), {"a": a})
        conn.execute(text("UPDATE audit_log_entry SET event_seq = :b WHERE idx = 30"), {"b": b})
    report = verify_database(engine)
    assert report.bad_seq == b
    assert "(log index 30) was changed after it was logged, or moved" in report.problem


def test_cli_reports_and_fails_on_tampering(engine: Engine, db_url: str) -> None:
    env = {**os.environ, "OCPO_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ocpo_coord.cli", "audit", "verify"]
    intact = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert "audit log intact" in intact.stdout
    with engine.begin() as conn:
        _drop_guards(conn)
        target = _seqs(conn)[3]
        conn.execute(text("UPDATE audit_event SET actor_name = 'someone else' WHERE seq = :s"), {"s": target})
    broken = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert broken.returncode == 1
    assert f"entry {target} (log index 3) was changed" in broken.stderr


def _first_with_after(conn: Connection) -> int:
    row = conn.execute(
        text(
            "SELECT seq FROM audit_event WHERE after IS NOT NULL AND CAST(after AS TEXT) LIKE '{%' ORDER BY seq"
        )
    ).first()
    assert row is not None
    return int(row[0])


def _json_texts(conn: Connection) -> list[tuple[str | None, str | None]]:
    rows = conn.execute(
        text("SELECT CAST(before AS TEXT), CAST(after AS TEXT) FROM audit_event ORDER BY seq")
    )
    return [(row[0], row[1]) for row in rows]


def test_stored_json_in_another_layout_still_verifies(engine: Engine) -> None:
    """The hash covers the value, not the stored text: a dump and restore that spaces
    or orders the JSON differently must not look like tampering."""
    relaid = "(after::jsonb)::json" if engine.dialect.name == "postgresql" else "json(after)"
    with engine.begin() as conn:
        _drop_guards(conn)
        stored = _json_texts(conn)
        conn.execute(
            text(f"UPDATE audit_event SET after = {relaid}, before = {relaid.replace('after', 'before')}")
        )
        assert _json_texts(conn) != stored
    report = verify_database(engine)
    assert report.ok, report.problem


def test_a_changed_json_value_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        _drop_guards(conn)
        target = _first_with_after(conn)
        conn.execute(text("""UPDATE audit_event SET after = '{"forged": 1}' WHERE seq = :s"""), {"s": target})
    report = verify_database(engine)
    assert report.bad_seq == target
    assert "changed" in report.problem


async def test_appended_entries_hash_as_the_verifier_does(engine: Engine, db_url: str) -> None:
    """The writer shows each entry's leaf hash as it hashed the entry in memory; the
    sequencer hashes the stored row, the verifier its text. Text outside ASCII, nested
    JSON and several ids must come out the same all three ways."""
    async_engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(async_engine)() as session:
            actor = Actor(principal=await load_principal(session, "unmik.analyst"))
            written = [
                await record_event(
                    session,
                    actor=actor,
                    action="test.append",
                    record_kind="intel_item",
                    record_ids=[uuid.uuid4(), uuid.uuid4()],
                    before={"title": "Prizren \u2013 Шар планина 🚚", "tags": ["a", "ü"], "n": 7},
                    after={"nested": {"deep": [1, None, True]}},
                    detail="ñ" * 1200,
                )
                for _ in range(3)
            ]
            await session.commit()
    finally:
        await async_engine.dispose()
    for event in written:
        assert event.prev_hash == ""
        assert event.hash == leaf_hash(canonical_bytes(hashed_fields(event))).hex()
    assert await integrate(db_url) == 3
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT l.leaf_hash FROM audit_log_entry l JOIN audit_event e ON e.seq = l.event_seq "
                "WHERE e.action = 'test.append' ORDER BY l.idx"
            )
        ).scalars()
        assert [bytes(h).hex() for h in stored] == [e.hash for e in written]
    report = verify_database(engine)
    assert report.ok, report.problem
    assert report.checkpoints_matched[-1] == report.checked


async def _record_at(db_url: str, at: datetime) -> None:
    """An entry appended by the service at ``at``."""
    async_engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(async_engine)() as session:
            actor = Actor(principal=await load_principal(session, "unmik.analyst"), now=at)
            await record_event(session, actor=actor, action="test.time")
            await session.commit()
    finally:
        await async_engine.dispose()


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC),  # no fraction: written as .000000Z
        datetime(2026, 11, 23, 8, 0, 0, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # strftime does not pad the year
    ],
)
async def test_entry_times_verify_as_they_were_hashed(engine: Engine, db_url: str, at: datetime) -> None:
    """The verifier reads ``at`` as text from PostgreSQL; that text must be the one the
    entry was hashed with, and a changed time must still be found."""
    await _record_at(db_url, at)
    await integrate(db_url)
    report = verify_database(engine)
    assert report.ok, report.problem
    with engine.begin() as conn:
        _drop_guards(conn)
        target = int(
            conn.execute(text("SELECT seq FROM audit_event WHERE action = 'test.time'")).scalar_one()
        )
        events = AuditEvent.__table__  # type: ignore[attr-defined]
        later = at + timedelta(microseconds=1)
        conn.execute(update(events).where(events.c.seq == target).values(at=later))
    assert verify_database(engine).bad_seq == target


async def test_two_appends_wait_for_neither_each_other_nor_a_head(engine: Engine, db_url: str) -> None:
    """One request's append is still uncommitted when another appends and commits: the
    second does not wait for the first, and both end up in the log (SQLite serialises
    its writers itself)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    async_engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(async_engine)() as session:
            analyst = Actor(principal=await load_principal(session, "unmik.analyst"))
            chief = Actor(principal=await load_principal(session, "unmik.chief"))
        sessions = sessionmaker_for(async_engine)
        async with sessions() as first, sessions() as second:
            earlier = await record_event(first, actor=analyst, action="test.first")

            async def append_and_commit() -> AuditEvent:
                event = await record_event(second, actor=chief, action="test.second")
                await second.commit()
                return event

            # Would wait forever behind ``first`` if appends queued for one another.
            later = await asyncio.wait_for(append_and_commit(), timeout=30)
            await first.commit()
    finally:
        await async_engine.dispose()
    assert await integrate(db_url) == 2
    with engine.connect() as conn:
        logged = conn.execute(
            text("SELECT event_seq FROM audit_log_entry ORDER BY idx DESC LIMIT 2")
        ).scalars()
        assert set(logged) == {earlier.seq, later.seq}
    report = verify_database(engine)
    assert report.ok, report.problem


# PostgreSQL stores UUIDs and timestamps as values, not as text in some layout.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.mark.parametrize(
    "stored",
    [
        "upper(actor_id)",  # the same UUID in capitals
        # hyphenated, as another writer might keep it
        "lower(substr(actor_id, 1, 8) || '-' || substr(actor_id, 9, 4) || '-' || substr(actor_id, 13, 4)"
        " || '-' || substr(actor_id, 17, 4) || '-' || substr(actor_id, 21))",
    ],
)
@sqlite_only
def test_sqlite_uuids_in_another_layout_still_verify(engine: Engine, stored: str) -> None:
    """SQLite keeps a UUID as text; the walk hyphenates the usual 32 digits itself and
    must read any other text of the same UUID as the model does."""
    with engine.begin() as conn:
        _drop_guards(conn)
        before = (
            conn.execute(text("SELECT actor_id FROM audit_event WHERE actor_id IS NOT NULL")).scalars().all()
        )
        conn.execute(text(f"UPDATE audit_event SET actor_id = {stored} WHERE actor_id IS NOT NULL"))
        after = (
            conn.execute(text("SELECT actor_id FROM audit_event WHERE actor_id IS NOT NULL")).scalars().all()
        )
    assert after != before
    assert len(after) > 10
    report = verify_database(engine)
    assert report.ok, report.problem


@sqlite_only
def test_sqlite_a_uuid_in_other_digits_still_verifies(engine: Engine) -> None:
    """32 characters that are not ASCII hex but that the model reads as the same UUID
    (a full-width digit): read as the model reads them."""
    with engine.begin() as conn:
        _drop_guards(conn)
        seq, stored = next(
            (int(s), a)
            for s, a in conn.execute(text("SELECT seq, actor_id FROM audit_event"))
            if a and a[0].isdigit()
        )
        other = chr(0xFF10 + int(stored[0])) + stored[1:]
        conn.execute(text("UPDATE audit_event SET actor_id = :v WHERE seq = :s"), {"v": other, "s": seq})
    assert uuid.UUID(other) == uuid.UUID(stored)
    report = verify_database(engine)
    assert report.ok, report.problem


@pytest.mark.parametrize("kept", [None, 1])
@pytest.mark.parametrize("column", ["agency_id", "actor_id", "id"])
@sqlite_only
def test_sqlite_a_changed_uuid_digit_is_named(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, column: str, kept: int | None
) -> None:
    """The walk keeps the text it made for a recurring UUID (the actor, the agency) and
    reads it again for the next entry that stores the same value: a forged value is
    other text, made afresh and named. ``kept``: a store of one text, emptied at
    nearly every entry, must give the same answers."""
    if kept is not None:
        monkeypatch.setattr(verify, "_KEPT_TEXTS", kept)
    with engine.begin() as conn:
        _drop_guards(conn)
        target, stored = conn.execute(
            text(
                f"SELECT seq, {column} FROM audit_event WHERE {column} IS NOT NULL ORDER BY seq LIMIT 1 OFFSET 7"
            )
        ).one()
        recurring = conn.execute(
            text(f"SELECT count(*) FROM audit_event WHERE {column} = :v"), {"v": stored}
        ).scalar_one()
        forged = ("0" if stored[0] != "0" else "1") + stored[1:]
        conn.execute(text(f"UPDATE audit_event SET {column} = :v WHERE seq = :s"), {"v": forged, "s": target})
    assert recurring > 1 or column == "id"
    report = verify_database(engine)
    assert report.bad_seq == target
    assert "changed" in report.problem
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_event SET {column} = :v WHERE seq = :s"), {"v": stored, "s": target})
    assert verify_database(engine).ok


@pytest.mark.parametrize(
    "layout",
    [
        "substr(at, 1, 19)",  # no fraction: the same instant when the fraction was zero
        "substr(at, 1, 10) || 'T' || substr(at, 12)",  # ISO's 'T'
    ],
)
@sqlite_only
def test_sqlite_times_in_another_layout_still_verify(engine: Engine, db_url: str, layout: str) -> None:
    """The walk turns SQLite's usual timestamp text into the canonical text in SQL; any
    other text of the same instant is read as the model reads it."""
    asyncio.run(_record_at(db_url, datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)))
    asyncio.run(integrate(db_url))
    with engine.begin() as conn:
        _drop_guards(conn)
        target = int(
            conn.execute(text("SELECT seq FROM audit_event WHERE action = 'test.time'")).scalar_one()
        )
        conn.execute(text(f"UPDATE audit_event SET at = {layout} WHERE seq = :s"), {"s": target})
        stored = conn.execute(text("SELECT at FROM audit_event WHERE seq = :s"), {"s": target}).scalar_one()
    assert stored != "2026-11-24 08:00:00.000000"
    report = verify_database(engine)
    assert report.ok, report.problem
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET at = '2026-11-24 08:00:01' WHERE seq = :s"), {"s": target})
    assert verify_database(engine).bad_seq == target


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("actor_id", "'not-a-uuid'", "actor_id: badly formed hexadecimal UUID string"),
        ("id", "'zz'", "id: badly formed hexadecimal UUID string"),
        ("after", "'{not json'", "after: Expecting property name"),
        ("at", "'yesterday'", "at: Invalid isoformat string"),
        ("at", "42", "at: "),
    ],
)
@sqlite_only
def test_sqlite_a_damaged_row_is_named_in_one_line(
    engine: Engine, db_url: str, column: str, value: str, problem: str
) -> None:
    """Text that is not a UUID, JSON that does not parse, a time that is not one: the
    entry and the column are named, by the library call and by the command alike."""
    with engine.begin() as conn:
        _drop_guards(conn)
        target = _seqs(conn)[12]
        conn.execute(text(f"UPDATE audit_event SET {column} = {value} WHERE seq = :s"), {"s": target})
    report = verify_database(engine)
    assert report.bad_seq == target
    assert f"entry {target} (log index 12) is damaged: {problem}" in report.problem
    env = {**os.environ, "OCPO_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "ocpo_coord.cli", "audit", "verify"]
    broken = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
    assert f"entry {target} (log index 12) is damaged" in broken.stderr


def test_cli_refuses_bad_checkpoints_and_keys_in_one_line(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "OCPO_DATABASE_URL": db_url}
    garbled = tmp_path / "garbled.txt"
    garbled.write_text("not a checkpoint\n")
    foreign = tmp_path / "foreign.txt"
    other = Signer.generate("another-installation")
    body = Checkpoint("another-installation", 3, b"\0" * 32).text()
    foreign.write_text(body + "\n" + other.sign_line(body))
    cases = [
        (["audit", "verify", "--against", str(tmp_path / "absent.txt")], "cannot read"),
        (["audit", "verify", "--against", str(garbled)], "checkpoint: note must be text, a blank line"),
        (
            ["audit", "verify", "--against", str(foreign)],
            "is of 'another-installation', not of this installation",
        ),
        (["audit", "verify", "--log-key", "nonsense"], "verifier key must read"),
        (
            [
                "audit",
                "witness",
                "http://127.0.0.1:9",
                "--state",
                str(tmp_path / "s.json"),
                "--key",
                str(garbled),
                "--token",
                "t",
            ],
            "signer key must read",
        ),
    ]
    for args, message in cases:
        done = subprocess.run(
            [sys.executable, "-m", "ocpo_coord.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert message in done.stderr, done.stderr
