"""One benchmark run: scratch databases, generation, measurements, clean-up."""

import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ocpo_coord.audit.keys import checkpoint_signer
from ocpo_coord.bench import contention, curve, measure, operations, stix_intake, write_floor
from ocpo_coord.bench.generate import generate, generate_directory
from ocpo_coord.config import Settings
from ocpo_coord.db.engine import make_sync_engine, sync_url
from ocpo_coord.evidence.store import FileStore
from ocpo_coord.migrate import upgrade


@dataclass(frozen=True)
class Options:
    scale: float = 0.01
    database_url: str | None = None
    postgres: str | None = None
    repeat: int = 20
    deep_pages: int = 10
    clients: int = 4
    seconds: float = 3.0
    writes: int = 50
    bulk_selectors: int = 5000
    handover_cases: int = 20_000
    # Objects of the STIX bundle imported; None: ``stix_intake.objects_for(scale)``.
    stix_objects: int | None = None
    workers: int = 1
    # Numbers of concurrent clients for the load curve (``bench/curve``); empty: none.
    curve_clients: tuple[int, ...] = curve.CLIENTS
    keep: bool = False  # keep the scratch PostgreSQL databases, to measure them again


@contextmanager
def _databases(options: Options, workdir: Path) -> Iterator[tuple[str, str]]:
    """The database to measure and a second, empty installation to import into."""
    if options.postgres:
        admin = create_engine(sync_url(options.postgres), isolation_level="AUTOCOMMIT", hide_parameters=True)
        names = [f"ocpo_bench_{uuid.uuid4().hex[:10]}", ""]
        names[1] = names[0] + "_import"
        base = make_url(sync_url(options.postgres))
        try:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
            yield urls[0], urls[1]
        finally:
            with admin.connect() as conn:
                for name in names:
                    if options.keep:
                        _step(f"kept database {name}")
                    else:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    source = options.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    yield source, f"sqlite:///{workdir / 'import.sqlite'}"


def run(options: Options) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="ocpo-bench-"))
    try:
        with _databases(options, workdir) as (source_url, target_url):
            return _run(options, workdir, source_url, target_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)


def _run(options: Options, workdir: Path, source_url: str, target_url: str) -> dict[str, Any]:
    state = workdir / "state"
    state.mkdir()
    upgrade(source_url)
    upgrade(target_url)
    engine = make_sync_engine(source_url)
    result: dict[str, Any] = {
        "dialect": engine.dialect.name,
        "scale": options.scale,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        _step("generating")
        world = generate(
            engine,
            options.scale,
            handover_cases=options.handover_cases,
            files=FileStore(workdir / "files"),
        )
        result["generate"] = {
            "counts": world.counts,
            "seconds": world.seconds,
            "rows": world.rows,
            "rows_per_second": world.rows_per_second,
            "evidence_files": world.evidence_files,
            "evidence_file_bytes": world.evidence_file_bytes,
        }
        target = make_sync_engine(target_url)
        try:
            generate_directory(target, options.scale)
        finally:
            target.dispose()
        _step("audit sequence")
        signer = checkpoint_signer(Settings(database_url=source_url, state_dir=state))
        result["audit_sequence"] = operations.audit_sequence(source_url, signer)
        operations.settle_log(engine)
        _step("audit verify")
        result["audit_verify"] = operations.audit_verify(engine)
        env = {
            "OCPO_DATABASE_URL": source_url,
            "OCPO_STATE_DIR": str(state),
            "OCPO_ENVIRONMENT": "development",
            "OCPO_LOG_LEVEL": "WARNING",
        }
        settings = Settings(database_url=source_url, state_dir=state)
        from ocpo_coord.auth.tokens import mint_local_token

        tokens = {label: mint_local_token(settings, login) for label, login in world.readers.items()}
        port = measure.free_port()
        base = f"http://127.0.0.1:{port}"
        now = datetime.now(UTC)
        principals = asyncio.run(measure.load_principals(source_url, world.readers, now))
        _step(
            "pages (SQL, rule-keeping, caller and framework floors, REST, GraphQL), throughput, writes (write floor, REST, GraphQL)"
        )
        with measure.running_service(env, port, options.workers) as process:
            result.update(
                measure.page_timings(
                    engine,
                    principals,
                    base,
                    tokens,
                    database_url=source_url,
                    logins=world.readers,
                    now=now,
                    depth=options.deep_pages,
                    repeat=options.repeat,
                )
            )
            result["throughput"] = measure.throughput(
                base, tokens["middle"], clients=options.clients, seconds=options.seconds
            )
            result["curve"] = curve.curve(
                base, tokens["middle"], seconds=options.seconds, clients=options.curve_clients
            )
            result["list_under_writes"] = contention.list_under_writes(
                base, tokens["middle"], tokens["broad"], seconds=options.seconds, theatre="KOS", engine=engine
            )
            result["list_under_paced_writes"] = contention.list_under_writes(
                base,
                tokens["middle"],
                tokens["broad"],
                seconds=options.seconds,
                theatre="KOS",
                engine=engine,
                pace=contention.PACE,
            )
            result["writes"] = operations.writes(
                base, tokens["broad"], count=options.writes, theatre="KOS", phones=world.selector_pool
            )
            result["write_floor"] = write_floor.write_timings(
                engine,
                base,
                tokens["broad"],
                theatre="KOS",
                phones=world.selector_pool,
                repeat=options.repeat,
            )
            result["bulk_selectors"] = operations.bulk_selectors(
                base, tokens["broad"], count=options.bulk_selectors, theatre="KOS", phones=world.selector_pool
            )
            result["concurrent_writes"] = operations.concurrent_writes(
                base, tokens["broad"], clients=(1, 4, 16), seconds=options.seconds, theatre="KOS"
            )
            result["integration_delay"] = operations.integration_delay(
                base, tokens["broad"], engine, samples=20, theatre="KOS"
            )
            result["service"] = {
                "workers": options.workers,
                "peak_rss_mb": measure.peak_rss_mb(process.pid),
            }
        assert world.handover_id is not None
        os.environ.setdefault("OCPO_STATE_DIR", str(state))
        _step("handover export and import")
        result["handover"] = operations.handover(
            source_url,
            target_url,
            login=world.handover_exporter,
            handover_id=world.handover_id,
            cases=world.handover_cases,
            moving=world.handover_records,
            directory=workdir / "package",
            source_files=workdir / "files",
            target_files=workdir / "imported-files",
            signer=signer,
        )
        _step("STIX intake")
        result["stix_intake"] = stix_intake.stix_intake(
            source_url,
            login=world.readers["broad"],
            objects=options.stix_objects or stix_intake.objects_for(options.scale),
            theatre="KOS",
        )
    finally:
        engine.dispose()
    return result
