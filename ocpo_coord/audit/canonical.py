"""Canonical serialisation for the hash chain (RFC 8785 style).

Sorted keys, no whitespace, UTC ISO timestamps, UUIDs as text: the same entry hashes
the same on SQLite and PostgreSQL, whatever the server's time zone, and after an
export and import.
"""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

GENESIS_HASH = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in audit entry")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__} in an audit entry")


def canonical_json(value: Any) -> str:
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy, as it will be stored and later re-hashed."""
    return json.loads(canonical_json(value))


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(entry)).encode("utf-8")).hexdigest()
