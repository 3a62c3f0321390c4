"""Reader scopes: the few keys under which the visibility index files a record.

Every reader holds the scope EVERYONE, their agency's, their own, their agency's
sharing groups' and theatres', and AGREEMENTS_OF each agency that has an agreement
in force naming their agency. A record's reach (``READ_RULE.reach``) is the set of
scopes that could read it; it is a superset, never a decision.

Each held scope comes with a ceiling: the highest classification a walk of that scope
may return to this reader. It is the reader's clearance, and for an agreement scope
also the highest ceiling of the owner's agreements in force. Without it, a walk of a
big partner's records would hand the rule every record above the agreement's ceiling
only for the rule to refuse it, page after page.
"""

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
from ocpo_coord.db.sql_json import json_rows, parsed_rows
from ocpo_coord.models import SharingAgreement


class ScopeKind(enum.IntEnum):
    EVERYONE = 0
    AGENCY = 1
    USER = 2
    GROUP = 3
    THEATRE = 4
    AGREEMENTS_OF = 5


Scope = tuple[ScopeKind, uuid.UUID]
Reach = frozenset[Scope]
# The scopes a reader holds, each with its ceiling (a classification), in a fixed order.
Held = dict[Scope, int]

_ANYONE: Scope = (ScopeKind.EVERYONE, uuid.UUID(int=0))
EVERYONE: Reach = frozenset({_ANYONE})
NOBODY: Reach = frozenset()


def scopes(kind: ScopeKind, ids: Iterable[uuid.UUID | None]) -> Reach:
    return frozenset((kind, i) for i in ids if i is not None)


def includes(reach: Reach, scope: Scope) -> bool:
    """Whether ``reach`` names ``scope``, EVERYONE naming every scope."""
    return _ANYONE in reach or scope in reach


def any_of(parts: Iterable[Reach]) -> Reach:
    """A reader passing any part holds a scope of that part: the union covers them all."""
    union: set[Scope] = set()
    for part in parts:
        if _ANYONE in part:
            return EVERYONE
        union |= part
    return frozenset(union)


def all_of(parts: Iterable[Reach]) -> Reach:
    """A reader passing every part holds a scope of each, so any one part covers them;
    take the narrowest (EVERYONE narrows nothing, an empty part means nobody)."""
    best = EVERYONE
    for part in parts:
        if not part:
            return NOBODY
        if _ANYONE not in part and (_ANYONE in best or len(part) < len(best)):
            best = part
    return best


def common_to(parts: Iterable[Reach]) -> Reach:
    """The scopes in every part, exactly (EVERYONE is in every part; an empty part
    leaves nobody). Unlike ``all_of``, never wider than the intersection: it combines
    ``settles`` faces, which must not name a scope whose holders could fail a part."""
    common: Reach = EVERYONE
    for part in parts:
        if _ANYONE in part:
            continue
        common = part if _ANYONE in common else common & part
        if not common:
            return NOBODY
    return common


def held_by(principal: Principal, agreements: Iterable[tuple[uuid.UUID, int]]) -> Held:
    """The scopes of a reader whose agency is named by ``agreements`` in force, given as
    (grantor agency, the agreement's ceiling)."""
    if not principal.reads_agency_data or principal.agency_id is None:
        return {}
    clearance = int(principal.clearance)
    own: list[Scope] = [
        _ANYONE,
        (ScopeKind.AGENCY, principal.agency_id),
        (ScopeKind.USER, principal.user_id),
    ]
    own += sorted((ScopeKind.GROUP, g) for g in principal.sharing_group_ids)
    own += sorted((ScopeKind.THEATRE, t) for t in principal.theatre_ids)
    held: Held = dict.fromkeys(own, clearance)
    ceilings: dict[uuid.UUID, int] = {}
    for grantor, ceiling in agreements:
        ceilings[grantor] = max(ceilings.get(grantor, -1), int(ceiling))
    for grantor in sorted(ceilings):
        held[(ScopeKind.AGREEMENTS_OF, grantor)] = min(clearance, ceilings[grantor])
    return held


def _in_force(grantee: Any, now: datetime | ColumnElement[datetime]) -> tuple[ColumnElement[bool], ...]:
    # Only agreements in force count, each up to its ceiling: the rule checks the same
    # at the same instant, so a walk never offers what the agreement cannot release.
    return (
        col(SharingAgreement.grantee_agency_id) == grantee,
        col(SharingAgreement.valid_from) <= now,
        col(SharingAgreement.valid_until) > now,
    )


_AGREEMENT = (col(SharingAgreement.grantor_agency_id), col(SharingAgreement.max_classification))


async def reader_scopes(session: AsyncSession, principal: Principal, now: datetime) -> Held:
    """The scopes this reader holds at ``now``; empty for those who read no agency data."""
    if not principal.reads_agency_data:
        return {}
    rows = (await session.exec(select(*_AGREEMENT).where(*_in_force(principal.agency_id, now)))).all()
    return held_by(principal, rows)


def agreements_column(grantee: Any, now: datetime | ColumnElement[datetime]) -> Any:
    """The agreements in force at ``now`` naming the agency in the ``grantee`` column
    (of the enclosing statement), as one ``json_rows`` column, so that a statement that
    runs anyway (the caller's) brings them: see ``agreement_rows``."""
    return select(json_rows(*_AGREEMENT)).where(*_in_force(grantee, now)).scalar_subquery()


def agreement_rows(agreements: str | None) -> tuple[tuple[uuid.UUID, int], ...]:
    """The (grantor agency, ceiling) pairs of an ``agreements_column`` value."""
    return tuple((uuid.UUID(grantor), int(ceiling)) for grantor, ceiling in parsed_rows(agreements))


async def held_scopes(session: AsyncSession, principal: Principal, now: datetime) -> Held:
    """The reader's scopes at ``now``: from the agreements that came with the caller when
    they were read for that instant, else looked up."""
    if principal.agreements is not None and principal.agreements_at == now:
        return held_by(principal, principal.agreements)
    return await reader_scopes(session, principal, now)
