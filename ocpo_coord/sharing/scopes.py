"""Reader scopes: the few keys under which the visibility index files a record.

Every reader holds the scope EVERYONE, their agency's, their own, their agency's
sharing groups' and theatres', and AGREEMENTS_OF each agency that has an agreement
naming their agency. A record's reach (``READ_RULE.reach``) is the set of scopes
that could read it; it is a superset, never a decision.
"""

import enum
import uuid
from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ocpo_coord.auth.principal import Principal
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

_ANYONE: Scope = (ScopeKind.EVERYONE, uuid.UUID(int=0))
EVERYONE: Reach = frozenset({_ANYONE})
NOBODY: Reach = frozenset()


def scopes(kind: ScopeKind, ids: Iterable[uuid.UUID | None]) -> Reach:
    return frozenset((kind, i) for i in ids if i is not None)


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


def held_by(principal: Principal, grantors: Iterable[uuid.UUID]) -> list[Scope]:
    """The scopes of a reader whose agency is named by agreements of ``grantors``."""
    if not principal.reads_agency_data or principal.agency_id is None:
        return []
    held: list[Scope] = [
        _ANYONE,
        (ScopeKind.AGENCY, principal.agency_id),
        (ScopeKind.USER, principal.user_id),
    ]
    held += sorted((ScopeKind.GROUP, g) for g in principal.sharing_group_ids)
    held += sorted((ScopeKind.THEATRE, t) for t in principal.theatre_ids)
    held += sorted((ScopeKind.AGREEMENTS_OF, g) for g in set(grantors))
    return held


async def reader_scopes(session: AsyncSession, principal: Principal) -> list[Scope]:
    """The scopes this reader holds; empty for those who read no agency data."""
    if not principal.reads_agency_data:
        return []
    # Every agreement counts, in force or not: the rule checks its period and ceiling.
    grantors = (
        await session.exec(
            select(SharingAgreement.grantor_agency_id).where(
                col(SharingAgreement.grantee_agency_id) == principal.agency_id
            )
        )
    ).all()
    return held_by(principal, grantors)
