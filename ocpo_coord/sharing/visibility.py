"""Every read of a shareable record goes through ``readable`` (SQL; or
``readable_template``, the same with the instant given when the statement runs) or
``can_read`` (one record in memory); all apply ``READ_RULE`` from ``sharing/rule.py``.

Lists are filtered in the database, so pagination, counts and nested fields stay
right and nothing is fetched and then discarded. A record that hangs off a case is
readable only if the case is too: otherwise its ``case_id`` would tell the reader
that an unreadable case exists.
"""

import functools
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import col

from ocpo_coord.auth.principal import Principal
from ocpo_coord.models import Record
from ocpo_coord.sharing.rule import INSTANT, READ_RULE, Reader, RecordFacts, part_sql
from ocpo_coord.sharing.scopes import NOBODY, Reach

# One alias for every tree, so that the parts built for a reader can be reused.
_PARENT = aliased(Record, name="parent_record")


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


def _tree(reader: Reader) -> ColumnElement[bool]:
    if not reader.principal.reads_agency_data:
        return false()
    parent_readable = exists().where(
        col(_PARENT.id) == col(Record.parent_id), part_sql(READ_RULE, _PARENT, reader)
    )
    return and_(part_sql(READ_RULE, Record, reader), or_(col(Record.parent_id).is_(None), parent_readable))


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
