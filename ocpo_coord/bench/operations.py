"""Writes, handover export and import, the audit log's sequencing and walk."""

import asyncio
import hashlib
import resource
import shutil
import subprocess
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.audit.note import Signer
from ocpo_coord.audit.sequencer import integrate_pending
from ocpo_coord.audit.verify import verify_database
from ocpo_coord.auth.principal import load_principal
from ocpo_coord.bench.cpu import BusyCores
from ocpo_coord.bench.write_floor import Writer
from ocpo_coord.context import Actor
from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import import_package
from ocpo_coord.handover.trust import register_at_setup


def writes(
    base: str, token: str, *, count: int, theatre: str, phones: list[tuple[str, str]]
) -> dict[str, Any]:
    """Intelligence items with an entity and selectors, through the REST services:
    the same validation, audit entries and deconfliction check as any client gets
    (the write floor's ``Writer``, so both figures time the same requests)."""
    writer = Writer(base, token, theatre, phones)
    try:
        started = time.perf_counter()
        for _ in range(count):
            writer.rest()
        elapsed = time.perf_counter() - started
    finally:
        writer.close()
    return {"items": count, "seconds": elapsed, "per_second": count / elapsed}


def bulk_selectors(
    base: str, token: str, *, count: int, theatre: str, phones: list[tuple[str, str]]
) -> dict[str, Any]:
    """A seized phone's contact list: ``count`` phone numbers attached to one entity in
    one request, a few of them numbers other agencies hold (so hits are raised)."""
    headers = {"Authorization": f"Bearer {token}"}
    shared = [value for kind, value in phones if kind == "phone"][:5]
    values = [f"+383 45 {100000 + n}" for n in range(max(count - len(shared), 0))] + shared
    with httpx.Client(base_url=base, headers=headers, timeout=600) as http:
        entity = http.post(
            "/api/v1/entities", json={"entity_kind": "phone", "label": "Seized handset", "theatre": theatre}
        )
        entity.raise_for_status()
        started = time.perf_counter()
        answer = http.post(
            f"/api/v1/entities/{entity.json()['id']}/selectors",
            json={"selectors": [{"kind": "phone", "value": v} for v in values]},
        )
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
    result = answer.json()
    return {
        "selectors": len(values),
        "added": result["added"],
        "hits_raised": result["hits_raised"],
        "seconds": elapsed,
        "per_second": len(values) / elapsed,
    }


def _tree_bytes(directory: Path) -> tuple[int, list[Path]]:
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files), files


def sha256sum_seconds(files: list[Path]) -> float:
    """The machine's own ``sha256sum`` over the same files (hashlib if it is missing)."""
    started = time.perf_counter()
    if shutil.which("sha256sum"):
        for start in range(0, len(files), 2000):
            subprocess.run(
                ["sha256sum", *map(str, files[start : start + 2000])], check=True, stdout=subprocess.DEVNULL
            )
    else:
        for path in files:
            hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - started


async def _as(database_url: str, login: str, work: Any) -> Any:
    engine = make_async_engine(database_url)
    try:
        async with sessionmaker_for(engine)() as session:
            actor = Actor(
                principal=await load_principal(session, login), request_id=f"bench-{uuid.uuid4().hex}"
            )
            result = await work(session, actor)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def handover(
    source_url: str,
    target_url: str,
    *,
    login: str,
    handover_id: uuid.UUID,
    cases: int,
    moving: int,
    directory: Path,
    source_files: Path,
    target_files: Path,
    signer: Signer,
) -> dict[str, Any]:
    """Export the completed handover, then import the package into a second installation.
    ``moving`` is how many records its accepted lines name: all of them must leave.
    Each installation keeps its evidence files in its own store."""

    async def do_export(session: AsyncSession, actor: Actor) -> Any:
        return await export_handover(
            session,
            actor=actor,
            handover_id=handover_id,
            directory=directory,
            store=FileStore(source_files),
            signer=signer,
        )

    async def do_import(session: AsyncSession, actor: Actor) -> Any:
        # The receiving installation trusts the source's key, as its administrator would.
        await register_at_setup(session, verifier=signer.verifier(), registered_by="bench")
        return await import_package(session, actor=actor, directory=directory, store=FileStore(target_files))

    rss_before = _own_peak_rss_mb()
    started = time.perf_counter()
    summary = asyncio.run(_as(source_url, login, do_export))
    export_seconds = time.perf_counter() - started
    rss_after_export = _own_peak_rss_mb()
    size, files = _tree_bytes(directory)
    sha_seconds = sha256sum_seconds(files)
    started = time.perf_counter()
    imported = asyncio.run(_as(target_url, login, do_import))
    import_seconds = time.perf_counter() - started
    return {
        "cases": cases,
        "moving": moving,
        # The persons, vehicles, phones linked to what moved travel with it.
        "entities": summary.counts.get("entity", 0),
        "records": summary.records,
        "bytes": size,
        # The evidence files among those bytes; the rest are the records' JSON Lines.
        "evidence_files": summary.files,
        "evidence_file_bytes": summary.file_bytes,
        "files": len(files),
        "export_seconds": export_seconds,
        "export_bytes_per_second": size / export_seconds,
        "export_records_per_second": summary.records / export_seconds,
        "sha256sum_seconds": sha_seconds,
        "sha256sum_bytes_per_second": size / sha_seconds if sha_seconds else 0.0,
        "import_seconds": import_seconds,
        "import_records_per_second": imported.created / import_seconds,
        "imported": imported.created,
        # The bench process's high-water marks: the export's memory shows only where it
        # rises above what generating the theatre already took (flat: streamed).
        "peak_rss_mb_before": rss_before,
        "export_peak_rss_mb": rss_after_export,
        "import_peak_rss_mb": _own_peak_rss_mb(),
    }


def _own_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def audit_verify(engine: Engine) -> dict[str, Any]:
    started = time.perf_counter()
    report = verify_database(engine)
    elapsed = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"generated audit log is broken: {report.problem}")
    return {"entries": report.checked, "seconds": elapsed, "per_second": report.checked / elapsed}


def settle_log(engine: Engine) -> None:
    """What autovacuum does to the log's tables in a running installation, where the
    log grows a batch at a time: the tables the sequencer has just filled in one go
    are vacuumed, so that the walk reads them as it would there (their rows' hint
    bits set, not written back to every page by the walk's first read)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE audit_log_entry, audit_tree_node, audit_pending"))


def audit_sequence(database_url: str, signer: Signer) -> dict[str, Any]:
    """Integrate the generated entries into the log, as the sequencer does after an upgrade."""

    async def run() -> int:
        engine = make_async_engine(database_url)
        try:
            return await integrate_pending(engine, signer, limit=5000)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    entries = asyncio.run(run())
    elapsed = time.perf_counter() - started
    return {"entries": entries, "seconds": elapsed, "per_second": entries / elapsed if elapsed else 0.0}


async def run_writers(
    base: str,
    token: str,
    clients: int,
    seconds: float,
    theatre: str,
    *,
    answered: Any = None,
    pace: float | None = None,
) -> dict[str, Any]:
    """``clients`` writing intelligence items for ``seconds``, each again as soon as
    answered, or with ``pace`` (writes per second per client) each at its own steady
    rate, as staff logging their work would; ``answered`` (an event), when given, is set
    once the first is answered."""
    done = failed = 0
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        deadline = time.perf_counter() + seconds

        async def worker(w: int) -> None:
            nonlocal done, failed
            n = 0
            # Paced clients start spread over one interval, so their writes do not
            # arrive together.
            due = time.perf_counter() + (w / clients / pace if pace else 0.0)
            while time.perf_counter() < deadline:
                if pace:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += 1.0 / pace
                n += 1
                response = await http.post(
                    "/api/v1/intel-items",
                    json={
                        "title": f"Concurrent report {w}-{n}",
                        "content": "Written by one of several clients at once.",
                        "information_date": date.today().isoformat(),
                        "source_reliability": "B",
                        "information_credibility": "2",
                        "theatre": theatre,
                    },
                )
                if response.status_code == 201:
                    done += 1
                    if answered is not None and done == 1:
                        answered.set()
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "writes": done,
        "failed": failed,
        "seconds": elapsed,
        "per_second": done / elapsed,
    }


def concurrent_writes(
    base: str, token: str, *, clients: tuple[int, ...], seconds: float, theatre: str
) -> dict[str, dict[str, Any]]:
    """Intelligence items written by 1, 4, 16 clients at once: appends wait for nobody.
    Each run also gives the cores at work meanwhile (service, database and these
    clients share the machine) and the rate those cores would allow if every core
    worked: past it, more clients can only wait for a processor."""
    out: dict[str, dict[str, Any]] = {}
    for n in clients:
        with BusyCores() as cpu:
            run = asyncio.run(run_writers(base, token, n, seconds, theatre))
        run["cores_busy"] = cpu.cores
        run["cores"] = cpu.available
        run["cpu_bound_per_second"] = run["per_second"] * cpu.available / cpu.cores if cpu.cores else None
        out[str(n)] = run
    return out


async def _integration_delays(
    base: str, token: str, engine: Engine, samples: int, theatre: str
) -> list[float]:
    delays: list[float] = []
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for n in range(samples):
            response = await http.post(
                "/api/v1/intel-items",
                json={
                    "title": f"Delay probe {n}",
                    "content": "How long until a signed checkpoint covers this write.",
                    "information_date": date.today().isoformat(),
                    "source_reliability": "B",
                    "information_credibility": "2",
                    "theatre": theatre,
                },
            )
            response.raise_for_status()
            answered = time.perf_counter()
            with engine.connect() as conn:
                written = int(conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one())
            while True:
                checkpoint = await http.get("/api/v1/audit/checkpoint")
                if checkpoint.status_code == 200 and int(checkpoint.text.split("\n", 2)[1]) >= written:
                    break
                await asyncio.sleep(0.01)
            delays.append(time.perf_counter() - answered)
    return delays


def integration_delay(base: str, token: str, engine: Engine, *, samples: int, theatre: str) -> dict[str, Any]:
    """From a write's answer to a signed checkpoint that covers it (the service's sequencer)."""
    delays = sorted(asyncio.run(_integration_delays(base, token, engine, samples, theatre)))
    return {
        "samples": len(delays),
        "p50_ms": delays[len(delays) // 2] * 1000,
        "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))] * 1000,
    }
