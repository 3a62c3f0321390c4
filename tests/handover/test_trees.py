"""A record's tree moves as one: a case, what hangs off it, its restricted membership."""

import uuid
from pathlib import Path
from typing import Any

import httpx

from ocpo_coord.handover.export import export_handover
from ocpo_coord.handover.importer import import_package
from tests.conftest import auth, index_in_step
from tests.fixtures.handover import IN, OUT, act, decide, lines, open_handover, settle, step

RESTRICTED = "UNMIK-2008-0019"


async def restricted_tree(client: httpx.AsyncClient) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """A handover with its consents answered and checklist done; the restricted case's
    line and the lines that hang off it."""
    handover = await open_handover(client)
    hid = handover["id"]
    assert (await client.post(f"/api/v1/handovers/{hid}/inventory", headers=auth(OUT))).status_code == 200
    inventory = await lines(client, hid, OUT)
    case_line = next(ln for ln in inventory if ln["kind"] == "case" and RESTRICTED in (ln["label"] or ""))
    children = [
        ln
        for ln in inventory
        if ln["kind"] in ("evidence", "note", "task") and ln["case_id"] == case_line["subject_id"]
    ]
    assert {c["kind"] for c in children} == {"evidence", "note", "task"}
    return hid, case_line, children


async def test_declining_a_restricted_case_whose_children_are_accepted_is_refused_naming_both_lines(
    client: httpx.AsyncClient,
) -> None:
    hid, case_line, children = await restricted_tree(client)
    for child in children:
        await decide(client, hid, IN, {"line_ids": [child["id"]]}, disposition="accepted")
    declined = await client.post(
        f"/api/v1/handovers/{hid}/lines/{case_line['id']}/decide",
        json={"disposition": "declined", "reason": "closed file", "decline_outcome": "archived"},
        headers=auth(IN),
    )
    assert declined.status_code == 409, declined.text
    message = declined.json()["detail"]["message"]
    assert f"line {case_line['seq']}" in message
    assert any(f"line {c['seq']} " in message for c in children), message
    # Nor may the giver withhold it under the receiver's accepted children.
    withheld = await client.post(
        f"/api/v1/handovers/{hid}/lines/{case_line['id']}/decide",
        json={"disposition": "withheld", "reason": "under appeal"},
        headers=auth(OUT),
    )
    assert withheld.status_code == 409, withheld.text


async def test_children_of_a_declined_restricted_case_are_not_accepted_and_the_tree_travels(
    client: httpx.AsyncClient, db_url: str, other_db_url: str, tmp_path: Path
) -> None:
    hid, case_line, children = await restricted_tree(client)
    await decide(
        client,
        hid,
        IN,
        {"line_ids": [case_line["id"]]},
        disposition="declined",
        reason="closed file",
        decline_outcome="archived",
    )
    one = await client.post(
        f"/api/v1/handovers/{hid}/lines/{children[0]['id']}/decide",
        json={"disposition": "accepted"},
        headers=auth(IN),
    )
    assert one.status_code == 409
    message = one.json()["detail"]["message"]
    assert f"line {children[0]['seq']} " in message
    assert f"line {case_line['seq']}," in message
    assert "declined" in message
    # In bulk, they are skipped with the same reason and stay open.
    await settle(client, hid)
    still_open = {ln["id"] for ln in await lines(client, hid, OUT, disposition="open")}
    assert {c["id"] for c in children} <= still_open
    # The receiver changes its mind: the case and its tree move together.
    await decide(client, hid, IN, {"line_ids": [case_line["id"]]}, disposition="accepted")
    await settle(client, hid)
    for what, login in (
        ("submit", OUT),
        ("review", IN),
        ("sign-off", OUT),
        ("sign-off", IN),
        ("complete", IN),
    ):
        response = await step(client, hid, what, login)
        assert response.status_code == 200, (what, response.text)
    # The receiver reads every record of the tree it now owns...
    for ln in [case_line, *children]:
        kind = {"case": "cases", "evidence": "evidence", "note": "notes", "task": "tasks"}[ln["kind"]]
        seen = await client.get(f"/api/v1/{kind}/{ln['subject_id']}", headers=auth(IN))
        assert seen.status_code == 200, (ln["kind"], seen.text)
    # ... and its installation imports the package.
    package = tmp_path / "package"
    await act(
        db_url, IN, lambda s, a: export_handover(s, actor=a, handover_id=uuid.UUID(hid), directory=package)
    )
    summary = await act(other_db_url, IN, lambda s, a: import_package(s, actor=a, directory=package))
    assert {c["subject_id"] for c in children} <= set(summary.id_map)
    # Filed there under the case's members, as their own installation would file them.
    index_in_step(other_db_url)
