"""Node ids are the records' UUIDs: unique across every kind, the same in REST."""

import uuid

import strawberry

from ocpo_coord.exceptions import NotFound


def parse_id(value: strawberry.ID | str, kind: str) -> uuid.UUID:
    """A malformed id names nothing, so it is answered like a missing one."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(kind, field="id") from exc
