"""Canonical serialisation for the hash chain (RFC 8785 style).

Sorted keys, no whitespace, UTC ISO timestamps, UUIDs as text: the same entry hashes
the same on SQLite and PostgreSQL, whatever the server's time zone, and after an
export and import.

The bytes are defined by ``json.dumps(value, default=_default, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``: every chain ever written hashes them.
orjson writes the same bytes for plain data at a fraction of the cost, so it takes
every value it is known to write identically; anything else (enums, sets, floats it
formats differently, integers beyond 64 bits, non-text keys, lone surrogates) goes
through ``json`` as before.
"""

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import orjson

GENESIS_HASH = "0" * 64

# orjson's own datetime text differs (it drops zero microseconds): hand datetimes to
# ``_default``. Dataclasses are refused by json, so orjson must refuse them too.
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

# Leaves orjson writes exactly as json does (datetimes and dates through ``_default``).
# Exact types only: subclasses (enums among them) take the json path.
_SAME_LEAVES = frozenset({str, int, bool, type(None), uuid.UUID, datetime, date})


def _utc_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in audit entry")
    value = value.astimezone(UTC)
    if value.year < 1000:
        # strftime pads years below 1000 differently per platform; keep its text.
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The strftime text above, in half the time: isoformat without ``timespec`` (whose
    # parsing costs as much again) leaves out zero microseconds and ends in +00:00.
    text = value.isoformat()[:-6]
    return text + ".000000Z" if value.microsecond == 0 else text + "Z"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__} in an audit entry")


def _json_text(value: Any) -> str:
    """The reference serialisation: the definition of the canonical bytes."""
    return json.dumps(value, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _float_same(value: float) -> bool:
    # json writes float.__repr__ (and NaN, Infinity); orjson writes e.g. 1e-05 as
    # 0.00001 and NaN as null.
    return orjson.dumps(value) == float.__repr__(value).encode()


def _orjson_writes_same(value: Any) -> bool:
    """True when every leaf is one orjson writes exactly as json does.

    Keys are left to orjson, which refuses non-text keys. A set of leaf types is
    checked in one go, so flat containers cost no call per item.
    """
    kind = type(value)
    items: Iterable[Any]
    if kind is dict:
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return kind in _SAME_LEAVES or (kind is float and _float_same(value))
    if _SAME_LEAVES.issuperset(map(type, items)):
        return True
    return all(_orjson_writes_same(item) for item in items if type(item) not in _SAME_LEAVES)


def _orjson_bytes(value: Any, *, checked: bool = False) -> bytes | None:
    """The canonical bytes through orjson, or None where orjson would differ.

    ``checked``: the caller knows every leaf to be one orjson writes as json does.
    """
    try:
        if not checked and not _orjson_writes_same(value):
            return None
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, RecursionError):
        # Integers beyond 64 bits, non-text keys, lone surrogates, naive datetimes,
        # deep nesting: the json path writes them, or raises its own error, as it
        # always has.
        return None


def canonical_json(value: Any) -> str:
    fast = _orjson_bytes(value)
    return fast.decode() if fast is not None else _json_text(value)


def canonical_bytes(value: Any, *, checked: bool = False) -> bytes:
    """``canonical_json`` encoded as UTF-8, without the round trip through text.

    ``checked``: every leaf is text, an integer, a boolean, None, a UUID, an aware
    datetime or a date, and every container a dict or list of them (what ``read_json``
    reports as such): the check for orjson's differences is skipped.
    """
    fast = _orjson_bytes(value, checked=checked)
    return fast if fast is not None else _json_text(value).encode("utf-8")


def read_json(text: str) -> tuple[Any, bool]:
    """``json.loads(text)``, and whether orjson writes the value as json does.

    orjson reads integers beyond 64 bits as floats, so a result holding any float is
    read again by json; so is anything orjson refuses (NaN, lone surrogates). What
    orjson did read holds only text keys, text, integers within 64 bits, booleans
    and null: it writes that back exactly as json does.
    """
    try:
        value = orjson.loads(text)
        if _float_free(value):
            return value, True
    except (orjson.JSONDecodeError, RecursionError):
        pass
    return json.loads(text), False


def _float_free(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        items: Iterable[Any] = value.values()
    elif kind is list:
        items = value
    else:
        return kind is not float
    kinds = set(map(type, items))
    if float in kinds:
        return False
    if dict not in kinds and list not in kinds:
        return True
    return all(_float_free(item) for item in items if type(item) in (dict, list))


def jsonable(value: Any) -> Any:
    """A JSON-safe copy, as it will be stored and later re-hashed."""
    fast = _orjson_bytes(value)
    if fast is None:
        return json.loads(_json_text(value))
    # orjson wrote only integers within 64 bits and floats it reads back exactly.
    return orjson.loads(fast)


def chain_hash(prev_hash: str, entry: dict[str, Any], *, checked: bool = False) -> str:
    """``checked`` as for ``canonical_bytes``."""
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_bytes(entry, checked=checked)).hexdigest()
