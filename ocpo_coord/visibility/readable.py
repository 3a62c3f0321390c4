"""Every read of a shareable record goes through ``readable`` (SQL; or
``readable_template``, the same with the instant given when the statement runs) or
``can_read`` (one record in memory); all apply ``READ_RULE`` from ``visibility/rule.py``.

Lists are filtered in the database, so pagination, counts and nested fields stay
right and nothing is fetched and then discarded. A record that hangs off a case is
readable only if the case is too: otherwise its ``case_id`` would tell the reader
that an unreadable case exists.
"""

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Record
from ocpo_coord.visibility.rule import INSTANT, READ_RULE, Reader, RecordFacts, part_sql
from ocpo_coord.visibility.scopes import NOBODY, Reach

# One alias for every tree, so that the parts built for a reader can be reused.
_PARENT = aliased(Record, name="parent_record")
# The record a filter names, and its parent: aliases of their own, so that the test
# sits inside a statement over ``record`` without being correlated to its rows.
_NAMED = aliased(Record, name="named_record")
_NAMED_PARENT = aliased(Record, name="named_parent")


def readable(principal: Principal, *, now: datetime) -> ColumnElement[bool]:
    """True for the ``record`` rows the principal may read at ``now``."""
    return _readable(principal, now)


# A request asks for the same reader's predicate several times (the page, its count,
# the linked records the assembler checks). Building the tree costs milliseconds, and
# one shared tree also lets SQLAlchemy reuse its memoised cache key. The key is the
# whole principal and the instant, so a hit is exactly the tree that would be built.
@functools.lru_cache(maxsize=64)
def _readable(principal: Principal, now: datetime) -> ColumnElement[bool]:
    return _tree(Reader(principal, now))


@functools.lru_cache(maxsize=256)
def readable_template(principal: Principal) -> ColumnElement[bool]:
    """``readable`` with the instant left to the statement's ``INSTANT`` parameter
    (``at_instant``): the same tree at every instant, so a statement built on it can be
    kept and run again for each request, its SQLAlchemy cache key computed once. A
    statement that carries it refuses to run without the instant."""
    return _tree(Reader(principal, None, deferred=True))


def at_instant(now: datetime) -> dict[str, datetime]:
    """The parameters a statement built on ``readable_template`` runs with."""
    return {INSTANT: now}


def names_readable(
    principal: Principal, record_id: Any, *, now: datetime | None = None
) -> ColumnElement[bool]:
    """True when ``record_id`` (a value or a column) names a record the principal may read.

    Every filter that names a record (a case, a parent, an original, a dependency)
    goes through it, so that a record the reader may not read selects exactly what a
    record that does not exist selects: nothing. Without ``now`` the instant is the
    statement's parameter, as in ``readable_template``."""
    return exists().where(col(_NAMED.id) == record_id, _named_tree(principal, now))


@functools.lru_cache(maxsize=256)
def _named_tree(principal: Principal, now: datetime | None) -> ColumnElement[bool]:
    reader = Reader(principal, now, deferred=now is None)
    return _tree(reader, _NAMED, _NAMED_PARENT)


def _tree(reader: Reader, rec: Any = Record, parent: Any = _PARENT) -> ColumnElement[bool]:
    if not reader.principal.reads_agency_data:
        return false()
    parent_readable = exists().where(
        col(parent.id) == col(rec.parent_id), part_sql(READ_RULE, parent, reader)
    )
    return and_(part_sql(READ_RULE, rec, reader), or_(col(rec.parent_id).is_(None), parent_readable))


def settled_scopes(facts: RecordFacts) -> Reach:
    """The scopes whose every holder may read the record at any instant
    (``READ_RULE.settles``). None for a record under a parent: it is readable only while
    its parent is, which its own facts cannot tell."""
    return READ_RULE.settles(facts) if facts.record.parent_id is None else NOBODY


def can_read(principal: Principal, now: datetime, facts: RecordFacts, parent: RecordFacts | None) -> bool:
    """The decision for one record whose facts are already loaded."""
    reader = Reader(principal, now)
    if facts.record.parent_id is not None and (parent is None or not READ_RULE.holds(parent, reader)):
        return False
    return READ_RULE.holds(facts, reader)
