"""Case-insensitive substring search that behaves alike on SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import ColumnElement, or_


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(text: str, *columns: Any) -> ColumnElement[bool]:
    pattern = f"%{_escape(text.strip())}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))
