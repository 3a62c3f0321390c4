"""How the ``ocpo-coord`` command meets its user: one line per expected failure, plain help.

Every command runs through :func:`run`, so no command needs its own ``try`` block: an
expected failure (a bad setting, an unreachable database, a schema not migrated yet, bad
input, a refused action) prints one line saying what is wrong and what to do, and exits
non-zero. ``--debug`` (or ``OCPO_DEBUG=1``) lets the traceback through instead.
"""

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperArgument, TyperOption

from ocpo_coord.exceptions import OcpoError

DEBUG_ENV = "OCPO_DEBUG"
USAGE_EXIT = 2
FAILURE_EXIT = 1


class CliError(Exception):
    """An expected failure the command explains itself: the message is the whole line."""

    def __init__(self, message: str, *, exit_code: int = FAILURE_EXIT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def debug_requested() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def run(app: typer.Typer, args: Sequence[str] | None = None) -> None:
    """Run the command line; never end in a traceback unless debugging was asked for."""
    command = typer.main.get_command(app)
    plain_help(command)
    try:
        code = command.main(args=args, prog_name="ocpo-coord", standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            # A group called alone: its message is its help.
            typer.echo(exc.format_message())
            sys.exit(USAGE_EXIT)
        typer.echo(usage_line(exc), err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("ocpo-coord: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug_requested():
            raise
        line, exit_code = explain(exc)
        typer.echo(f"ocpo-coord: {line}", err=True)
        sys.exit(exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: typer.TyperException) -> str:
    """A usage error in one line, naming the command and where its help is."""
    message = " ".join(exc.format_message().split()).replace("Value error, ", "")
    context = getattr(exc, "ctx", None)
    path = getattr(context, "command_path", None)
    if not path:
        return f"ocpo-coord: {message}"
    return f"{path}: {message} (see '{path} --help')"


def explain(exc: BaseException) -> tuple[str, int]:
    """One line for an expected failure, and the exit code; unexpected ones say how to see more."""
    if isinstance(exc, CliError):
        return str(exc), exc.exit_code
    if isinstance(exc, OcpoError):
        where = f" ({exc.field})" if exc.field else ""
        return f"refused{where}: {exc.message}", FAILURE_EXIT
    if isinstance(exc, ValidationError):
        return _validation_line(exc), USAGE_EXIT
    database = _database_line(exc)
    if database is not None:
        return database, FAILURE_EXIT
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}", FAILURE_EXIT
    first = (str(exc).strip().splitlines() or [""])[0]
    return (
        f"unexpected error ({type(exc).__name__}: {first}); "
        f"run again with --debug (or {DEBUG_ENV}=1) to see where, and report it",
        FAILURE_EXIT,
    )


def _validation_line(exc: ValidationError) -> str:
    settings = exc.title == "Settings"
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        message = "; ".join(line.strip("- ").strip() for line in message.splitlines() if line.strip())
        location = ".".join(str(part) for part in error["loc"])
        if settings and location:
            location = f"OCPO_{location.upper()}"
        parts.append(f"{location}: {message}" if location else message)
    if settings:
        return "configuration: " + "; ".join(parts) + " (fix the environment variable and run again)"
    return "invalid input: " + "; ".join(parts)


def _database_line(exc: BaseException) -> str | None:
    from alembic.util import CommandError
    from psycopg.errors import QueryCanceled
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(exc, CommandError):
        return f"migration refused: {exc}"
    if isinstance(exc, ArgumentError) and "URL" in str(exc):
        return "OCPO_DATABASE_URL is not a database URL: use sqlite:///path/to/file.db or postgresql://user@host/db"
    if not isinstance(exc, DBAPIError):
        return None
    detail = str(exc.orig).strip() if exc.orig is not None else str(exc)
    lowered = detail.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return "the database has no schema yet: run `ocpo-coord migrate` first"
    if "no such column" in lowered or ("column" in lowered and "does not exist" in lowered):
        return "the database schema is older than this program: run `ocpo-coord migrate` first"
    if isinstance(exc.orig, QueryCanceled):  # as by the server's statement_timeout
        return (
            "the database stopped the operation at its time limit (OCPO_DB_STATEMENT_TIMEOUT_SECONDS): "
            "it ran long or waited for other work, such as an import of the same package; "
            "its transaction was rolled back; run it again once that work has ended"
        )
    first = " ".join(detail.splitlines()[0].split()) if detail else type(exc).__name__
    if exc.connection_invalidated or exc.statement is None or "connect" in lowered:
        return (
            f"cannot reach the database ({first}): check OCPO_DATABASE_URL "
            "and that the database server is running"
        )
    return f"the database refused the operation ({first})"


class _Argument(TyperArgument):
    """An argument whose help shows its name and sentence, not a ``<str>`` type placeholder."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def plain_help(command: Any) -> None:
    """Plain help for every command: names instead of ``<str>``/``<bool>`` placeholders.

    Set once on the built command tree so that every command, present and future, reads
    the same way on a terminal, in a pipe and in a log.
    """
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for param in command.params:
        if isinstance(param, TyperOption) and param.metavar is None and not param.is_flag:
            if not param.type_descriptor.is_choice and param.name:
                param.metavar = param.name.upper()
        elif isinstance(param, TyperArgument):
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            param.__class__ = _Argument
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
