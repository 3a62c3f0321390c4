"""Rows of an import, built in memory before anything is written.

A bundle's records are inserted table by table in a few statements
(``repository.insert_new``), not through the one-record create path, so a record's row
is built here with the fields ``records.service.create_marked_record`` gives it: held,
owned and created by the importer's agency, the originator named by the bundle when it
is an agency known here, the provenance saying where it came from. An import never
recreates releases, so a record's markings are its own columns only.

Rows are plain dicts: building an ORM object per row would cost more than the insert.
The markings a creator reads (for the audit entry) are worked out once per kind of
marking, from one record object, since with no releases they depend on nothing else
but the provenance.
"""

import uuid
from typing import Any

from ocpo_coord.context import Actor
from ocpo_coord.exceptions import NotFound
from ocpo_coord.models import Record
from ocpo_coord.models.base import new_row
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.records.schemas import MarkingsInput, MarkingsPublic
from ocpo_coord.records.service import markings_public
from ocpo_coord.visibility.readable import can_read
from ocpo_coord.visibility.rule import RecordFacts

# The columns the read rule and the public markings look at, besides the ids.
_SHAPE = ("kind", "originator_agency_id", "theatre_id", "classification", "tlp", "orcon", "nohost")


def new_record(
    actor: Actor,
    *,
    kind: RecordKind,
    markings: MarkingsInput,
    theatre_id: uuid.UUID | None,
    record_id: uuid.UUID,
    originator_agency_id: uuid.UUID | None,
    provenance: str,
) -> dict[str, Any]:
    principal = actor.principal
    assert principal.agency_id is not None
    # An import never recreates releases: the record's own columns are all its markings.
    assert not markings.releasable_to
    assert not markings.named_readers
    assert not markings.sharing_group_ids
    return new_row(
        Record,
        id=record_id,
        kind=kind,
        originator_agency_id=originator_agency_id or principal.agency_id,
        custodian_agency_id=principal.agency_id,
        owner_agency_id=principal.agency_id,
        created_by_id=principal.user_id,
        theatre_id=theatre_id,
        classification=markings.classification,
        tlp=markings.tlp,
        orcon=markings.orcon,
        nohost=markings.nohost,
        provenance=provenance,
        created_at=actor.now,
        updated_at=actor.now,
    )


class CreatorView:
    """The markings of new records as their creator reads them (``created_markings``)."""

    def __init__(self, actor: Actor, codes: dict[uuid.UUID, str]) -> None:
        self.actor = actor
        self.codes = codes
        self.shapes: dict[tuple[Any, ...], MarkingsPublic | None] = {}

    def markings(self, row: dict[str, Any], label: str) -> MarkingsPublic:
        """As a create answers: not found when the rule does not let the creator read it."""
        shape = tuple(row[name] for name in _SHAPE)
        if shape not in self.shapes:
            record = Record(**row)
            readable = can_read(self.actor.principal, self.actor.now, RecordFacts(record), None)
            self.shapes[shape] = markings_public(record, [], self.codes) if readable else None
        found = self.shapes[shape]
        if found is None:
            raise NotFound(label)
        return found.model_copy(update={"provenance": row["provenance"]})
