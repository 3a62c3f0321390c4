"""The ``ocpo-coord`` command: serve, migrate, seed, mint development tokens."""

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from ocpo_coord.cli_runtime import DEBUG_ENV, CliError, run
from ocpo_coord.config import Environment, get_settings
from ocpo_coord.progress import working

app = typer.Typer(no_args_is_help=True, help="ocpo-coord: multi-agency coordination tracker.")
seed_app = typer.Typer(no_args_is_help=True, help="Load seed data.")
app.add_typer(seed_app, name="seed")


def _handover_app() -> typer.Typer:
    from ocpo_coord.handover.cli import app as handover_app

    return handover_app


app.add_typer(_handover_app(), name="handover")


def _audit_app() -> typer.Typer:
    from ocpo_coord.audit.cli import app as audit_app

    return audit_app


app.add_typer(_audit_app(), name="audit")


def _files_app() -> typer.Typer:
    from ocpo_coord.evidence.cli import app as files_app

    return files_app


app.add_typer(_files_app(), name="files")


def _entity_app() -> typer.Typer:
    from ocpo_coord.entity.cli import app as entity_app

    return entity_app


app.add_typer(_entity_app(), name="entity")


def _stix_app() -> typer.Typer:
    from ocpo_coord.stix.cli import app as stix_app

    return stix_app


app.add_typer(_stix_app(), name="stix")


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the full traceback of a failure (or set OCPO_DEBUG=1)."),
    ] = False,
) -> None:
    """ocpo-coord: multi-agency coordination tracker."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


def main() -> None:
    """The installed ``ocpo-coord`` command."""
    # Commands import what they use when they run; the visibility index's flush hooks
    # must be installed before any of them makes a session (``db/engine.py``).
    import ocpo_coord.visibility  # noqa: F401

    run(app)


def _prepare_state_dir() -> None:
    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from ocpo_coord.migrate import upgrade

    _prepare_state_dir()
    applied = upgrade(get_settings().database_url)
    if applied:
        plural = "revision" if len(applied) == 1 else "revisions"
        typer.echo(f"applied {len(applied)} schema {plural}; the database is now at {applied[-1]} (latest)")
    else:
        typer.echo("the database schema was already up to date; nothing changed")


@seed_app.command("demo")
def seed_demo(
    directory_only: Annotated[
        bool,
        typer.Option(
            "--directory-only",
            help="Only agencies, users and positions: a second installation to import handovers into.",
        ),
    ] = False,
) -> None:
    """Load the Kosovo 2007-2009 and Haiti demo (safe to run twice)."""
    from ocpo_coord.seeding import directory_only as only_directory
    from ocpo_coord.seeding import load_demo, read_demo

    _prepare_state_dir()
    data = read_demo()
    with working("seed demo") as step:
        created = asyncio.run(load_demo(only_directory(data) if directory_only else data, on_step=step))
    typer.echo("demo data loaded" if created else "demo data already present; nothing changed")


@app.command()
def reindex(
    check: Annotated[bool, typer.Option("--check", help="Only compare; change nothing.")] = False,
) -> None:
    """Rebuild the visibility index from the records (or, with --check, compare them)."""
    from ocpo_coord.db.engine import make_sync_engine
    from ocpo_coord.visibility.reach import drift, rebuild

    engine = make_sync_engine(get_settings().database_url)
    try:
        with engine.begin() as conn, working("reindex") as step:
            step("comparing" if check else "rebuilding")
            if check:
                missing, extra = drift(conn)
                typer.echo(f"visibility index: {len(missing)} rows missing, {len(extra)} rows extra")
                if missing or extra:
                    raise typer.Exit(1)
                return
            typer.echo(f"visibility index rebuilt for {rebuild(conn)} records")
    finally:
        engine.dispose()


@app.command()
def token(
    login: Annotated[str, typer.Argument(help="Login of a user, e.g. unmik.analyst")],
    minutes: Annotated[int, typer.Option(min=1, max=7 * 24 * 60, help="Lifetime in minutes.")] = 480,
) -> None:
    """Print a bearer token for a user (embedded default only, never in production)."""
    from datetime import timedelta

    from ocpo_coord.auth.tokens import mint_local_token
    from ocpo_coord.seeding import user_exists

    settings = get_settings()
    if settings.environment is Environment.PRODUCTION or settings.jwks_url:
        typer.echo("tokens come from the identity provider when OCPO_JWKS_URL is set", err=True)
        raise typer.Exit(2)
    if not asyncio.run(user_exists(login)):
        typer.echo(f"no user with login {login!r}; run 'ocpo-coord seed demo' first?", err=True)
        raise typer.Exit(1)
    typer.echo(mint_local_token(settings, login, ttl=timedelta(minutes=minutes)))


def _database_option(value: str | None) -> str | None:
    """A database URL given as an option, refused by name like the setting."""
    from ocpo_coord.config import supported_database_url

    if value is None:
        return value
    try:
        return supported_database_url(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def bench(
    scale: Annotated[
        float,
        typer.Option(min=0.00001, help="Fraction of full scale (1.0 = 200k cases, 1M intelligence items)."),
    ] = 0.01,
    database_url: Annotated[
        str | None,
        typer.Option(
            callback=_database_option,
            help="An empty database to fill (default: a SQLite file in a temporary directory).",
        ),
    ] = None,
    postgres: Annotated[
        str | None,
        typer.Option(
            callback=_database_option,
            help="A PostgreSQL server URL: scratch databases are created there and dropped afterwards.",
        ),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="JSON of a 1%-scale run, for the full-versus-small-scale ratio.")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Timed repetitions per page.")] = 20,
    writes: Annotated[int, typer.Option(min=1, help="Intelligence items to create.")] = 50,
    handover_cases: Annotated[int, typer.Option(min=1, help="Cases in the exported handover.")] = 20_000,
    stix_objects: Annotated[
        int | None,
        typer.Option(
            min=10, help="Objects of the imported STIX bundle (default: 10,000; 200 below scale 0.01)."
        ),
    ] = None,
    seconds: Annotated[float, typer.Option(min=0.01, help="Duration of each throughput run.")] = 3.0,
    clients: Annotated[int, typer.Option(min=1, help="Concurrent clients for throughput.")] = 4,
    workers: Annotated[int, typer.Option(min=1, help="Service processes sharing the database.")] = 1,
    curve: Annotated[
        str, typer.Option(help="Concurrent clients for the load curve, comma-separated; empty: no curve.")
    ] = "1,8,32,64",
    keep: Annotated[
        bool, typer.Option(help="With --postgres: keep the scratch databases (named on stderr).")
    ] = False,
    report_only: Annotated[
        bool, typer.Option("--report-only", help="Exit 0 even when a target is missed (still named).")
    ] = False,
) -> None:
    """Generate a synthetic theatre and measure the hot paths against the database's floor."""
    import json

    from ocpo_coord.bench.report import misses, ratios, table
    from ocpo_coord.bench.run import Options, run

    options = Options(
        scale=scale,
        database_url=database_url,
        postgres=postgres,
        repeat=repeat,
        writes=writes,
        handover_cases=handover_cases,
        stix_objects=stix_objects,
        seconds=seconds,
        clients=clients,
        workers=workers,
        curve_clients=_client_counts(curve),
        keep=keep,
    )
    result = run(options)
    result["ratios"] = ratios(result, json.loads(baseline.read_text()) if baseline else None)
    typer.echo(table(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2, default=str))
    missed = misses(result)
    typer.echo("")
    if not missed:
        typer.echo("every target met")
        return
    typer.echo(f"{len(missed)} target(s) missed:")
    for line in missed:
        typer.echo(f"  {line}")
    if not report_only:
        raise typer.Exit(1)


def _port_free(host: str, port: int) -> None:
    """Say so in one line, before anything starts, when another program holds the port."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # As the server binds: a port in TIME_WAIT after a restart is free to take.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise CliError(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it, or choose another "
            f"port with --port (for ./scripts/demo: OCPO_PORT={port + 1} ./scripts/demo)"
        ) from None


def _schema_current(database_url: str) -> None:
    """Refuse to serve a database that is unreachable or not migrated, before listening."""
    from ocpo_coord.migrate import alembic_config, pending_revisions

    pending = pending_revisions(alembic_config(database_url), database_url)
    if pending:
        raise CliError(
            f"the database schema is {len(pending)} revision(s) behind this program: "
            "run `ocpo-coord migrate` first"
        )


def _client_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = (0,)
    if any(n < 1 for n in counts):
        raise CliError(f"--curve takes positive numbers of clients, comma-separated: {text!r}")
    return counts


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from ocpo_coord.http_server import PROTOCOL
    from ocpo_coord.logging_setup import configure_logging

    settings = get_settings()
    _prepare_state_dir()
    _port_free(host, port)
    _schema_current(settings.database_url)
    if workers > 1:
        from ocpo_coord.metrics import prepare_multiprocess

        # One /metrics answer for all workers, whichever of them the scrape reaches.
        prepare_multiprocess(settings.state_dir / "metrics")
    # The service's log format from the first line on (the worker supervisor's lines too);
    # uvicorn's access log is off because the application writes its own, with request ids.
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    uvicorn.run(
        "ocpo_coord.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        # httptools with bounds on header size, header time and body silence.
        http=PROTOCOL,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    main()
