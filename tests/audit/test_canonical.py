"""The fast canonical serialisation writes, byte for byte, what every chain was hashed
over: ``json.dumps`` with sorted keys, no spaces, raw UTF-8 and the audit defaults.
A single differing byte would break every chain already written."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum, IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpo_coord.audit.canonical import (
    canonical_bytes,
    canonical_json,
    chain_hash,
    jsonable,
    read_json,
)


def _reference_default(value: Any) -> Any:
    """The serialisation's definition, as it was before orjson."""
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


def reference_json(value: Any) -> str:
    return json.dumps(
        value, default=_reference_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def reference_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256((prev_hash + reference_json(entry)).encode("utf-8")).hexdigest()


class Colour(Enum):
    RED = "red"
    NESTED = (1, "two")


class Level(IntEnum):
    HIGH = 3


class Kind(StrEnum):
    CASE = "case"


@dataclass
class Point:
    x: int


def _outcome(call: Any, *args: Any) -> Any:
    """The result, or the kind of error: the fast path must fail where json failed."""
    try:
        return call(*args)
    except (TypeError, ValueError, RecursionError) as error:
        return type(error)


# Every character, lone surrogates included; control characters and U+2028 come often.
_text = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from(["\x00", "\x1f", "\x7f", '"', "\\", "\u2028", "\u2029", "\ufeff", "\U0001f600"]),
    )
)
_ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**40]),
)
_floats = st.one_of(
    st.floats(),
    st.sampled_from([0.0, -0.0, 1e-5, 1e-4, 1e-7, 1e16, 1e15, 1e22, 5e-324, 1.5, float("nan"), float("inf")]),
)
_zones = st.one_of(
    st.just(UTC),
    st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
_datetimes = st.one_of(
    st.datetimes(timezones=_zones),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(1200, 1, 1), timezones=_zones),
    st.datetimes(timezones=_zones).map(lambda d: d.replace(microsecond=0)),
)
_plain_leaves = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
_leaves = st.one_of(
    _plain_leaves,
    _datetimes,
    st.dates(),
    st.uuids(),
    st.sampled_from([Colour.RED, Colour.NESTED, Level.HIGH, Kind.CASE]),
    st.frozensets(st.integers(), max_size=4),
)
_keys = st.one_of(_text, st.sampled_from(["a", "b", "é", "\U0001f600", "\uffff", "A", ""]))


def _nested(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(keys, inner, max_size=5),
        ),
        max_leaves=25,
    )


values = _nested(_leaves, _keys)
json_values = _nested(_plain_leaves, _keys)
_settings = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(values)
def test_canonical_json_writes_the_reference_text(value: Any) -> None:
    assert _outcome(canonical_json, value) == _outcome(reference_json, value)


@_settings
@given(values, st.sampled_from(["0" * 64, "ab" * 32]))
def test_chain_hash_is_the_reference_hash(value: Any, prev_hash: str) -> None:
    entry = {"id": uuid.UUID(int=7), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "after": value}
    expected = _outcome(reference_hash, prev_hash, entry)
    assert _outcome(chain_hash, prev_hash, entry) == expected


@_settings
@given(values)
def test_canonical_bytes_are_the_reference_text_in_utf8(value: Any) -> None:
    expected = _outcome(lambda v: reference_json(v).encode("utf-8"), value)
    assert _outcome(canonical_bytes, value) == expected


@_settings
@given(values)
def test_jsonable_is_the_reference_round_trip(value: Any) -> None:
    expected = _outcome(lambda v: json.loads(reference_json(v)), value)
    got = _outcome(jsonable, value)
    if isinstance(expected, type):
        assert got == expected
    else:
        # Compared as text: 1 == 1.0 and 0.0 == -0.0 in Python, not in the chain.
        assert reference_json(got) == reference_json(expected)


_dump_styles = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, 2]),
        "sort_keys": st.booleans(),
    }
)


@_settings
@given(json_values, _dump_styles)
def test_read_json_reads_what_json_reads(value: Any, style: dict[str, Any]) -> None:
    """Stored text in any layout: big integers, NaN, escaped lone surrogates included."""
    text = json.dumps(value, **style)
    parsed, plain = read_json(text)
    expected = json.loads(text)
    assert reference_json(parsed) == reference_json(expected)
    if plain:
        entry = {"at": datetime(2026, 1, 2, tzinfo=UTC), "before": parsed}
        assert _outcome(_checked_hash, "0" * 64, entry) == _outcome(reference_hash, "0" * 64, entry)


def _checked_hash(prev_hash: str, entry: Any) -> str:
    return chain_hash(prev_hash, entry, checked=True)


@pytest.mark.parametrize(
    "value",
    [
        {"at": datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)},
        {"at": datetime(2026, 3, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=5)))},
        {"at": datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC)},
        {"d": date(2026, 3, 1), "u": uuid.UUID(int=1), "s": {3, 1, 2}},
        {"text": '\x00\x01\x1f\x7f\u2028\u2029"\\ é \U0001f600'},
        {"big": 2**64, "small": -(2**63) - 1, "edge": 2**64 - 1},
        {"floats": [1e-5, 1e16, float("nan"), float("inf"), -0.0, 0.1]},
        {"enums": [Colour.RED, Colour.NESTED, Level.HIGH, Kind.CASE]},
        {"b": 1, "a": {"é": 1, "e": 2, "\U0001f600": 3, "\uffff": 4}},
        {1: "int key", 2: "keys"},
        {"nested": [[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]},
    ],
)
def test_awkward_values_match_the_reference(value: Any) -> None:
    assert canonical_json(value) == reference_json(value)
    assert chain_hash("0" * 64, value) == reference_hash("0" * 64, value)


@pytest.mark.parametrize(
    "value",
    [
        {"at": datetime(2026, 1, 1)},  # naive: no zone, no canonical time
        {"p": Point(1)},
        {"mixed": {1, "a"}},
        {"keys": {uuid.UUID(int=1): 1}},
        {"mixed keys": {1: 1, "a": 2}},
    ],
)
def test_values_json_refused_are_refused(value: Any) -> None:
    expected = _outcome(reference_json, value)
    assert isinstance(expected, type)
    assert _outcome(canonical_json, value) is expected
    assert _outcome(chain_hash, "0" * 64, value) is expected


def test_a_lone_surrogate_cannot_be_hashed_as_before() -> None:
    value = {"text": "\ud800"}
    assert canonical_json(value) == reference_json(value)
    with pytest.raises(UnicodeEncodeError):
        chain_hash("0" * 64, value)


def test_a_nesting_too_deep_for_orjson_takes_the_reference_path() -> None:
    value: Any = "leaf"
    for _ in range(300):
        value = [value]
    assert canonical_json(value) == reference_json(value)
    assert _checked_hash("0" * 64, {"v": value}) == reference_hash("0" * 64, {"v": value})
