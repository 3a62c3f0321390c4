"""Entities that come in through a STIX bundle are deconflicted like any other."""

import uuid

import httpx
from sqlmodel import col, select

from ocpo_coord.models import AuditEvent, DeconflictionHit, Entity
from ocpo_coord.stix.ids import OCPO_EXTENSION
from tests.conftest import auth
from tests.fixtures.queries import rows

STAMP = "2008-05-01T00:00:00.000Z"


def _bundle(phone: str) -> dict[str, object]:
    person = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": "Courier with a Vala number",
        "identity_class": "individual",
        "extensions": {
            OCPO_EXTENSION: {
                "extension_type": "property-extension",
                "selectors": [{"kind": "phone", "value": phone}],
            }
        },
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "published": STAMP,
        "name": "Partner report on a courier",
        "description": "The courier calls a number other agencies know.",
        "report_types": ["threat-report"],
        "object_refs": [person["id"]],
    }
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [person, report]}


async def test_an_imported_person_sharing_a_phone_raises_hits_once(
    client: httpx.AsyncClient, db_url: str
) -> None:
    bundle = _bundle("+377 44 218 907")  # held by UNMIK, KFOR and KP in the demo
    before = {h.id for h in await rows(db_url, select(DeconflictionHit))}

    async def imported() -> httpx.Response:
        return await client.post(
            "/api/v1/stix/import", json=bundle, params={"theatre": "KOS"}, headers=auth("eulex.prosecutor")
        )

    first = await imported()
    assert first.status_code == 200, first.text
    assert len(first.json()["created"]) == 1
    raised = [h for h in await rows(db_url, select(DeconflictionHit)) if h.id not in before]
    # The imported entity is one side of every hit raised.
    [entity_id] = set.intersection(*({h.record_id, h.other_record_id} for h in raised))
    labels = await rows(db_url, select(Entity.label).where(col(Entity.id) == entity_id))
    assert labels == ["Courier with a Vala number"]
    # Three other agencies hold the number: each collision has both sides, each audited.
    assert len(raised) == 6
    assert len({h.other_agency_id for h in raised if h.record_id == entity_id}) == 3
    entries = await rows(
        db_url, select(AuditEvent.detail).where(col(AuditEvent.action) == "deconfliction.hit")
    )
    assert all(any(str(h.id) in detail for detail in entries) for h in raised)

    again = await imported()
    assert again.status_code == 200, again.text
    assert again.json()["created"] == []
    assert len(await rows(db_url, select(DeconflictionHit))) == len(before) + 6
