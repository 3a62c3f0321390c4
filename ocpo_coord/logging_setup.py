"""Logs: one JSON object per line on stderr, each stamped with the request it belongs to.

The request is carried in a context variable that the request middleware sets, so every
line logged while serving a request, from any module, carries the same ``request_id``.
"""

import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

from ocpo_coord.log_redaction import redact


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(slots=True)
class RequestLogContext:
    """What one request's log lines share; the login is filled in once the token is verified."""

    request_id: str
    login: str | None = None


_current: ContextVar[RequestLogContext | None] = ContextVar("ocpo_request_log", default=None)


def bind_request(request_id: str) -> Token[RequestLogContext | None]:
    return _current.set(RequestLogContext(request_id=request_id))


def unbind_request(token: Token[RequestLogContext | None]) -> None:
    _current.reset(token)


def current_request() -> RequestLogContext | None:
    return _current.get()


def bind_login(login: str) -> None:
    """Name the signed-in user in this request's access line."""
    context = _current.get()
    if context is not None:
        context.login = login


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# uvicorn adds an ANSI-coloured copy of its messages; it is noise in a log store.
_DROPPED_EXTRAS = frozenset({"color_message", "request_id"})


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _StampingFactory:
    """Stamps the request id on a record when it is made, in the request's own context, so
    every handler sees it (a test's capture, a queue handler), whatever the handler order;
    and makes the record safe (``log_redaction``): no record's content reaches a log."""

    def __init__(self, base: Callable[..., logging.LogRecord]) -> None:
        self.base = base

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        context = _current.get()
        if context is not None:
            record.request_id = context.request_id
        redact(record)
        return record


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, request_id (inside a request), then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in _DROPPED_EXTRAS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # a traceback already made safe (``log_redaction``)
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only: no encoding trouble, and no U+2028 or U+0085 for a shipper to split on.
        return json.dumps(entry, default=str)


def _printable(text: str) -> str:
    """Control characters escaped, so a hostile path cannot forge a second log line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class TextFormatter(logging.Formatter):
    """One readable line per record, for a developer's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        where = f" [{request_id}]" if request_id else ""
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}{where} {_printable(record.getMessage())}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return line


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time, as test runners swap it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        return


_HANDLER_NAME = "ocpo-coord"


def configure_logging(*, log_format: LogFormat, level: str) -> None:
    """Install the service's handler on the root logger; safe to call again (it replaces itself).

    Other handlers (a test runner's capture, say) are left alone. uvicorn's own loggers are
    routed through this handler, and its access log is silenced: the request middleware
    writes the access line, with the request id, user and no query string.
    """
    current_factory = logging.getLogRecordFactory()
    if not isinstance(current_factory, _StampingFactory):
        logging.setLogRecordFactory(_StampingFactory(current_factory))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # aiosqlite's debug lines quote every statement with its parameters: record content.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLevelName(level)))
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
