"""The benchmark's generated handover is one the product could have completed: every
child and linked intelligence item of its cases has a line, what moved changed hands
as completion does it, the visibility index is in step, and the exporter reads it all."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ocpo_coord.auth.principal import load_principal
from ocpo_coord.bench.generate import World, generate
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, make_sync_engine, sessionmaker_for
from ocpo_coord.handover.export import export_handover
from ocpo_coord.models import Agency, Handover, HandoverLine, IntelCase, Record, RecordRelease, Task
from ocpo_coord.visibility.reach import drift
from tests.fixtures.databases import Template, build_template


@pytest.fixture
def generated(backend: str, tmp_path: Path) -> Iterator[tuple[str, World]]:
    from tests.conftest import _template

    _template(backend, tmp_path)  # skips (or fails, in CI) when PostgreSQL is absent
    template: Template = build_template(backend, tmp_path, seed=False)
    engine = make_sync_engine(template.url)
    try:
        world = generate(engine, 0.0002, handover_cases=5)
    finally:
        engine.dispose()
    yield template.url, world
    template.close()


def _lines(engine: Engine, handover_id: uuid.UUID) -> list[dict[str, object]]:
    table = HandoverLine.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.handover_id == handover_id).order_by(table.c.seq))
        return [dict(row._mapping) for row in rows]


def test_the_handover_carries_the_cases_children_and_intelligence(generated: tuple[str, World]) -> None:
    url, world = generated
    assert world.handover_id is not None
    engine = make_sync_engine(url)
    try:
        lines = _lines(engine, world.handover_id)
        cases = [ln["subject_id"] for ln in lines if ln["kind"] == "case"]
        assert len(cases) == world.handover_cases == 5
        record, task, links = (
            Record.__table__,  # type: ignore[attr-defined]
            Task.__table__,  # type: ignore[attr-defined]
            IntelCase.__table__,  # type: ignore[attr-defined]
        )
        with engine.connect() as conn:
            tasks = set(
                conn.execute(
                    select(record.c.id)
                    .join(task, task.c.id == record.c.id)
                    .where(record.c.parent_id.in_(cases), task.c.status == "proposed")
                ).scalars()
            )
            intel = set(conn.execute(select(links.c.intel_id).where(links.c.case_id.in_(cases))).scalars())
        assert tasks, "the tiny theatre has tasks under the chosen cases"
        assert intel, "the tiny theatre links intelligence to the chosen cases"
        assert {ln["subject_id"] for ln in lines if ln["kind"] == "task"} == tasks
        assert {ln["subject_id"] for ln in lines if ln["kind"] == "intel_item"} == intel
        accepted = [ln for ln in lines if ln["disposition"] == "accepted"]
        assert len(accepted) == world.handover_records > len(cases)
        assert len({ln["seq"] for ln in lines}) == len(lines)
    finally:
        engine.dispose()


def test_completion_moved_what_was_accepted(generated: tuple[str, World]) -> None:
    url, world = generated
    assert world.handover_id is not None
    engine = make_sync_engine(url)
    try:
        lines = _lines(engine, world.handover_id)
        handovers, record, releases = (
            Handover.__table__,  # type: ignore[attr-defined]
            Record.__table__,  # type: ignore[attr-defined]
            RecordRelease.__table__,  # type: ignore[attr-defined]
        )
        with engine.connect() as conn:
            h = conn.execute(select(handovers).where(handovers.c.id == world.handover_id)).one()
            records = {r.id: r for r in conn.execute(select(record))}
            released = set(
                conn.execute(
                    select(releases.c.record_id).where(releases.c.agency_id == h.incoming_agency_id)
                ).scalars()
            )
            codes = dict(conn.execute(select(Agency.__table__.c.id, Agency.__table__.c.code)).all())  # type: ignore[attr-defined]
            missing, extra = drift(conn)
        assert h.status == "completed"
        owned = 0
        for ln in lines:
            r = records[ln["subject_id"]]
            third_party = r.originator_agency_id not in (h.outgoing_agency_id, h.incoming_agency_id)
            assert ln["consent_status"] == ("granted" if third_party else "not_required")
            assert ln["consent_agency_id"] == (r.originator_agency_id if third_party else None)
            if ln["disposition"] == "declined":
                assert r.tlp == "RED"
                assert ln["decline_outcome"] == "retained"
                assert "BENCH-HANDOVER-1" not in r.provenance
                continue
            taken = f"transferred from {codes[h.outgoing_agency_id]} to {codes[h.incoming_agency_id]}"
            if taken in r.provenance:
                owned += 1
                assert r.owner_agency_id == r.custodian_agency_id == h.incoming_agency_id
            else:
                # Another agency's material: released to the receiver, not re-owned.
                assert r.id in released
                assert "with the originator's consent under handover BENCH-HANDOVER-1" in r.provenance
                assert r.owner_agency_id != h.outgoing_agency_id
        assert owned >= world.handover_cases
        assert not missing, "the visibility index files every record the rule lets a reader read"
        assert not extra
    finally:
        engine.dispose()


def test_the_exporter_reads_every_record_that_moved(generated: tuple[str, World], tmp_path: Path) -> None:
    url, world = generated
    assert world.handover_id is not None
    handover_id = world.handover_id

    async def export() -> int:
        engine = make_async_engine(url)
        try:
            async with sessionmaker_for(engine)() as session:
                actor = Actor(principal=await load_principal(session, world.handover_exporter))
                summary = await export_handover(
                    session, actor=actor, handover_id=handover_id, directory=tmp_path / "package"
                )
                # The records that moved, and the entities linked to them, which travel too.
                return summary.records - summary.counts.get("entity", 0)
        finally:
            await engine.dispose()

    assert asyncio.run(export()) == world.handover_records
