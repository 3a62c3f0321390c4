"""What a log line may say about a failure: never the content of a record.

A database error's text carries what was being written. SQLAlchemy appends the
statement's parameters (hidden on every engine here: ``hide_parameters``), and the
server's own message can quote the row (PostgreSQL: ``Failing row contains (...)``,
``Key (title)=(...) already exists``, ``invalid input syntax ...: "..."``). A pydantic
error quotes its input. Logs are read by operators who must not read records.

Every log record passes through ``redact`` when it is made (``logging_setup`` installs
it), so every handler sees the same safe record: such an exception is named by its
class, its SQLSTATE (or SQLite error name) and the constraint, table and column it
concerns, never by its text, wherever it appears: the message, an argument, the
traceback, and every exception chained to it.
"""

import logging
import sqlite3
import traceback
from collections.abc import Iterator
from typing import Any

import psycopg
from graphql import GraphQLError
from pydantic import ValidationError
from sqlalchemy.exc import StatementError


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, GraphQLError) and current.original_error is not None:
            current = current.original_error
        else:
            current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def is_sensitive(exc: BaseException) -> bool:
    """An exception whose text may quote a record (or any it was chained to)."""
    return any(
        isinstance(e, StatementError | psycopg.Error | sqlite3.Error | ValidationError) for e in _chain(exc)
    )


def _name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _driver(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        diag = exc.diag
        where = [
            f"{label} {value}"
            for label, value in (
                ("constraint", diag.constraint_name),
                ("table", diag.table_name),
                ("column", diag.column_name),
            )
            if value
        ]
        return ", ".join([f"SQLSTATE {exc.sqlstate or 'none'}", *where])
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorname", None) or "sqlite error"
    return ""


def safe_message(exc: BaseException) -> str:
    """The exception's text, or, when that text may quote a record, what it is about."""
    if isinstance(exc, GraphQLError) and exc.original_error is not None:
        return safe_message(exc.original_error) if is_sensitive(exc) else exc.message
    if isinstance(exc, StatementError):
        cause = exc.orig
        detail = f"{_name(cause)} ({_driver(cause)})" if cause is not None else "no driver error"
        return f"database error from {detail}; its text and the statement's values are not logged"
    if isinstance(exc, psycopg.Error | sqlite3.Error):
        return f"({_driver(exc)}); its text is not logged"
    if isinstance(exc, ValidationError):
        places = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['type']}"
            for error in exc.errors(include_url=False)
        )
        return f"{exc.error_count()} validation errors for {exc.title}: {places}; the input is not logged"
    return str(exc)


def safe_traceback(exc: BaseException) -> str:
    """A traceback as ``traceback`` prints it (frames, outermost cause first), with each
    exception's text replaced by ``safe_message``."""
    parts: list[str] = []
    for position, current in enumerate(reversed(list(_chain(exc)))):
        if position:
            parts.append("\nwhich led to:\n\n")
        if current.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(current.__traceback__))
        parts.append(f"{_name(current)}: {safe_message(current)}\n")
    return "".join(parts).rstrip("\n")


def _safe_argument(value: Any) -> Any:
    return safe_message(value) if isinstance(value, BaseException) and is_sensitive(value) else value


def redact(record: logging.LogRecord) -> None:
    """Make ``record`` safe in place: its message, its arguments and its traceback."""
    if isinstance(record.msg, BaseException) and is_sensitive(record.msg):
        record.msg = safe_message(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_safe_argument(value) for value in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _safe_argument(value) for key, value in record.args.items()}
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None and is_sensitive(exc_info[1]):
        # Formatters print ``exc_text`` when there is no ``exc_info`` to format.
        record.exc_text = safe_traceback(exc_info[1])
        record.exc_info = None
