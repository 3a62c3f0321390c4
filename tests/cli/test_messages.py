"""The command line as a newcomer meets it: every expected failure is one line on stderr
that says what is wrong and what to do, with a non-zero exit and no traceback; ``--debug``
shows the traceback; help reads as sentences."""

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import typer

from ocpo_coord.cli import app
from ocpo_coord.cli_runtime import plain_help
from tests.fixtures.databases import _libpq, postgres_admin_url, postgres_unreachable_reason


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocpo_coord.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The failure is a single line on stderr naming the problem, and nothing on stdout."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert "╭" not in result.stderr  # no boxed frames either
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCPO_")}
    env["OCPO_STATE_DIR"] = str(tmp_path / "state")
    return env


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'never-migrated.db'}"
        return
    reason = postgres_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    name = f"ocpo_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(postgres_admin_url()), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        from sqlalchemy.engine import make_url

        yield make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(postgres_admin_url()), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_migrate_names_an_unreachable_database_in_one_line(cli_env: dict[str, str]) -> None:
    cli_env["OCPO_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"
    _one_line(_run(["migrate"], cli_env), "cannot reach the database", "OCPO_DATABASE_URL")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://root@127.0.0.1/ocpo", "mysql is not supported"),
        ("::not a url::", "not a database URL"),
        ("oracle+cx_oracle://scott:tiger@db/ocpo", "oracle is not supported"),
    ],
)
def test_an_unsupported_or_unparsable_database_url_is_refused_by_name(
    cli_env: dict[str, str], url: str, said: str
) -> None:
    cli_env["OCPO_DATABASE_URL"] = url
    for command in (["migrate"], ["token", "unmik.analyst"]):
        line = _one_line(_run(command, cli_env), "OCPO_DATABASE_URL", said, "sqlite:///", "postgresql://")
        assert "tiger" not in line  # a password never reaches the terminal


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_commands_before_migrate_say_to_run_migrate(cli_env: dict[str, str], empty_db_url: str) -> None:
    cli_env["OCPO_DATABASE_URL"] = empty_db_url
    for command in (
        ["seed", "demo"],
        ["token", "unmik.analyst"],
        ["handover", "list", "--as", "x"],
        ["serve", "--port", "0"],
    ):
        _one_line(_run(command, cli_env), "run `ocpo-coord migrate` first")


def test_a_bad_log_level_is_named_with_the_levels_that_exist(cli_env: dict[str, str]) -> None:
    cli_env["OCPO_LOG_LEVEL"] = "LOUD"
    for command in (["migrate"], ["serve", "--port", "0"]):
        _one_line(_run(command, cli_env), "OCPO_LOG_LEVEL", "'LOUD'", "DEBUG, INFO")


def test_production_without_its_settings_names_every_missing_one_in_one_line(
    cli_env: dict[str, str],
) -> None:
    cli_env["OCPO_ENVIRONMENT"] = "production"
    _one_line(_run(["serve", "--port", "0"], cli_env), "OCPO_JWKS_URL", "OCPO_DATABASE_URL")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_bad_handover_input_is_one_line_naming_the_option(cli_env: dict[str, str], db_url: str) -> None:
    cli_env["OCPO_DATABASE_URL"] = db_url
    create = ["handover", "create", "--as", "unmik.chief", "--incoming", "EULEX", "--theatre", "KOS"]
    _one_line(
        _run([*create, "--cut-off", "9-12-2008", "--title", "UNMIK to EULEX"], cli_env),
        "--cut-off",
        "9-12-2008",
        "%Y-%m-%d",
        "ocpo-coord handover create --help",
    )
    _one_line(_run([*create, "--cut-off", "2008-12-09", "--title", "x"], cli_env), "title", "at least 3")
    some_id = str(uuid.uuid4())
    decide = ["handover", "decide", some_id, "--as", "unmik.chief", "--disposition", "maybe"]
    _one_line(_run(decide, cli_env), "--disposition", "'maybe'", "accepted")
    _one_line(_run(["handover", "show", "not-an-id", "--as", "unmik.chief"], cli_env), "HANDOVER_ID")
    # A refusal by the service reads the same way.
    _one_line(_run(["handover", "show", some_id, "--as", "unmik.chief"], cli_env), "not found")
    _one_line(_run(["handover", "list", "--as", "nobody.at.all"], cli_env))


def test_usage_errors_are_one_line_too(cli_env: dict[str, str]) -> None:
    _one_line(_run(["no-such-command"], cli_env), "No such command", "ocpo-coord --help")
    _one_line(_run(["token", "unmik.analyst", "--minutes", "soon"], cli_env), "--minutes")
    _one_line(_run(["handover", "create"], cli_env), "Missing option")
    _one_line(_run(["serve", "--port", "99999"], cli_env), "--port", "65535")
    _one_line(_run(["token", "unmik.analyst", "--minutes", "-5"], cli_env), "--minutes")
    _one_line(_run(["bench", "--database-url", "mysql://db/ocpo"], cli_env), "--database-url", "mysql")
    _one_line(_run(["bench", "--scale", "0"], cli_env), "--scale")


def test_debug_shows_the_traceback(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli_env["OCPO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    flag = _run(["--debug", "token", "unmik.analyst"], cli_env)
    assert flag.returncode != 0
    assert "Traceback" in flag.stderr
    assert "no such table" in flag.stderr
    cli_env["OCPO_DEBUG"] = "1"
    variable = _run(["token", "unmik.analyst"], cli_env)
    assert variable.returncode != 0
    assert "Traceback" in variable.stderr


def test_serve_on_a_taken_port_says_so_and_how_to_choose_another(cli_env: dict[str, str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        _one_line(_run(["serve", "--port", str(port)], cli_env), f"127.0.0.1:{port}", "--port", "OCPO_PORT")


def test_migrate_says_what_it_did(cli_env: dict[str, str]) -> None:
    first = _run(["migrate"], cli_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied ")
    assert "revisions" in first.stdout
    again = _run(["migrate"], cli_env)
    assert again.returncode == 0, again.stderr
    assert "already up to date" in again.stdout


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_a_sentence_and_no_type_placeholder() -> None:
    root = typer.main.get_command(app)
    plain_help(root)
    missing = []
    seen = 0
    for path, command in _commands(root):
        seen += 1
        if not (command.help or "").strip():
            missing.append(" ".join(path) or "ocpo-coord")
        for param in command.params:
            if param.name in ("help",):
                continue
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{' '.join(path)} {param.name}")
        context = typer.Context(command, info_name=" ".join(("ocpo-coord", *path)))
        text = command.get_help(context)
        for placeholder in ("<str>", "<bool>", "<int>", "<float>", "<uuid>", "<path>", "<UUID>"):
            assert placeholder not in text, f"{path}: {placeholder}\n{text}"
    assert seen > 25
    assert missing == []


def test_seed_demo_reports_progress_in_plain_lines_off_a_terminal(cli_env: dict[str, str]) -> None:
    assert _run(["migrate"], cli_env).returncode == 0
    seeded = _run(["seed", "demo"], cli_env)
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip() == "demo data loaded"  # stdout stays the answer
    lines = seeded.stderr.strip().splitlines()
    assert "seed demo: cases done" in "\n".join(lines)
    assert lines[-1].startswith("seed demo: finished in ")
    assert "\x1b" not in seeded.stderr  # no terminal codes in a log


def test_seed_demo_shows_a_live_spinner_on_a_terminal(cli_env: dict[str, str]) -> None:
    import pty

    assert _run(["migrate"], cli_env).returncode == 0
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ocpo_coord.cli", "seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**cli_env, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=120) == 0
    os.close(controller)
    if process.stdout is not None:
        assert process.stdout.read().strip() == b"demo data loaded"
        process.stdout.close()
    assert b"seed demo: " in seen
    assert b"\x1b[" in seen  # drawn and redrawn in place, then cleared
    assert b"finished in" not in seen


def test_bench_names_missed_targets_and_fails_unless_asked_only_to_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from ocpo_coord.bench import report, run

    measured = {"dialect": "postgresql", "scale": 0.01}
    calculated = {"rest_vs_floor": 7.5, "graphql_vs_floor": 3.0, "audit_verify_per_second": 50_000.0}
    monkeypatch.setattr(run, "run", lambda options: dict(measured))
    monkeypatch.setattr(report, "ratios", lambda result, baseline: dict(calculated))
    monkeypatch.setattr(report, "table", lambda result: "the table")
    failed = CliRunner().invoke(app, ["bench"])
    assert failed.exit_code == 1
    assert "2 target(s) missed" in failed.output
    assert "rest_vs_floor: 7.50 (target <= 6.0)" in failed.output
    assert "audit_verify_per_second: 50,000.00 (target >= 100,000.0)" in failed.output
    assert "graphql_vs_floor" not in failed.output.split("missed")[1]
    reported = CliRunner().invoke(app, ["bench", "--report-only"])
    assert reported.exit_code == 0
    assert "rest_vs_floor: 7.50" in reported.output
    calculated.update(rest_vs_floor=2.0, audit_verify_per_second=200_000.0)
    met = CliRunner().invoke(app, ["bench"])
    assert met.exit_code == 0
    assert "every target met" in met.output
