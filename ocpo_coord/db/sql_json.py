"""``json_rows``: an aggregate that hands back small lookups as one column of JSON text."""

from typing import Any

import orjson
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class json_rows(FunctionElement[str]):  # named as SQL functions are
    """The aggregated rows' values as JSON text, ``[[a, b], ...]``.

    Lookups of a few dozen rows can then ride along as one column of a statement that
    runs anyway (a request's caller) instead of costing a round trip of their own. JSON
    keeps any text exact, where a separator could turn up inside a value."""

    type = String()
    name = "json_rows"
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def parsed_rows(text: str | None) -> list[list[Any]]:
    """The rows of a ``json_rows`` column: PostgreSQL answers NULL for none, SQLite '[]'."""
    rows: list[list[Any]] = orjson.loads(text) if text else []
    return rows
