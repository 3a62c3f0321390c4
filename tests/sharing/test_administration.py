"""Administration of sharing: groups, agreements (MoUs) and grants, through both APIs.

Each change is checked by its effect on a reader, not only by the answer to the writer.
"""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import col, select

from ocpo_coord.db.engine import make_async_engine, sessionmaker_for
from ocpo_coord.models import Agency, AuditEvent, Record
from ocpo_coord.models.enums import Classification
from tests.conftest import auth, gql
from tests.fixtures.queries import audit_rows, count_rows
from tests.fixtures.records import lower_clearance, new_case, new_group

MISSING = "00000000-0000-4000-8000-00000000beef"


def _at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def _reads(client: httpx.AsyncClient, login: str, case_id: str) -> bool:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=auth(login))
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


_ADMIN_ACTIONS = ("sharing_group.", "agreement.", "grant.")


async def _actions(db_url: str, since: int) -> list[AuditEvent]:
    """The sharing administration entries written since ``since`` (a count of rows)."""
    return [e for e in (await audit_rows(db_url))[since:] if e.action.startswith(_ADMIN_ACTIONS)]


async def _transfer_ownership(db_url: str, record_id: str, agency_code: str) -> None:
    """What an accepted handover does to a record's markings (no handover API exists yet)."""
    engine = make_async_engine(db_url)
    try:
        async with sessionmaker_for(engine)() as session:
            agency = (await session.exec(select(Agency).where(col(Agency.code) == agency_code))).one()
            record = (await session.exec(select(Record).where(col(Record.id) == uuid.UUID(record_id)))).one()
            record.owner_agency_id = agency.id
            record.custodian_agency_id = agency.id
            await session.commit()
    finally:
        await engine.dispose()


# Sharing groups


async def test_each_admin_manages_only_their_own_agency_groups(
    client: httpx.AsyncClient, db_url: str
) -> None:
    since = len(await audit_rows(db_url))
    created = await new_group(client, "unmik.chief", "Ibar bridge cell", ["KFOR"])
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["owner_agency"], group["members"]) == ("UNMIK", ["KFOR"])
    path = f"/api/v1/sharing-groups/{group['id']}"
    rename = {"name": "Ibar bridge coordination cell"}

    # Only an agency's administrators create groups; the installation admin has no agency.
    for login in ("unmik.analyst", "kfor.j2", "admin"):
        assert (await new_group(client, login, "Mine", [])).status_code == 403, login
    missing = await client.patch(
        f"/api/v1/sharing-groups/{MISSING}", json=rename, headers=auth("eulex.chief")
    )
    # EULEX is neither owner nor member: the group looks missing, to its admin as to the installation admin.
    for login in ("eulex.chief", "admin"):
        for response in (
            await client.get(path, headers=auth(login)),
            await client.patch(path, json=rename, headers=auth(login)),
            await client.post(f"{path}/members", json={"agency": "EULEX"}, headers=auth(login)),
            await client.delete(f"{path}/members/KFOR", headers=auth(login)),
            await client.delete(path, headers=auth(login)),
        ):
            assert response.status_code == 404, (login, response.text)
            assert response.json() == missing.json()
    # Members and the owner's non-admins see the group but may not change it.
    assert (await client.get(path, headers=auth("kfor.j2"))).status_code == 200
    for login in ("kfor.j2", "unmik.analyst"):
        refused = await client.patch(path, json=rename, headers=auth(login))
        assert refused.status_code == 403, login
    added = await client.post(f"{path}/members", json={"agency": "eulex"}, headers=auth("unmik.chief"))
    assert added.status_code == 200, added.text
    assert added.json()["members"] == ["EULEX", "KFOR"]
    as_member = await client.patch(path, json=rename, headers=auth("eulex.chief"))
    assert as_member.status_code == 403
    assert "owner agency" in as_member.json()["detail"]["message"]
    assert (await client.delete(path, headers=auth("eulex.chief"))).status_code == 403

    renamed = await client.patch(path, json=rename, headers=auth("unmik.chief"))
    assert renamed.status_code == 200
    assert renamed.json()["name"] == rename["name"]
    listed = {
        login: {g["name"] for g in (await client.get("/api/v1/sharing-groups", headers=auth(login))).json()}
        for login in ("unmik.analyst", "kfor.j2", "eulex.prosecutor", "omik.adviser", "admin")
    }
    assert rename["name"] in listed["unmik.analyst"] & listed["kfor.j2"] & listed["eulex.prosecutor"]
    assert rename["name"] not in listed["omik.adviser"]
    assert listed["admin"] == set()
    # Another agency's group it does not belong to never shows (OMIK is in none of EULEX's).
    assert "Northern Gates Task Group" not in listed["omik.adviser"]

    # Input errors name the field.
    for body, field in (
        ({"name": rename["name"]}, "name"),
        ({"name": "x", "members": ["NOSUCH"]}, "members"),
        ({"name": "  "}, "name"),
        ({"name": "x", "owner": "EULEX"}, "owner"),
    ):
        response = await client.post("/api/v1/sharing-groups", json=body, headers=auth("unmik.chief"))
        assert response.status_code in (409, 422), response.text
        assert response.json()["detail"]["field"] == field
    duplicate = await client.post(f"{path}/members", json={"agency": "KFOR"}, headers=auth("unmik.chief"))
    assert duplicate.status_code == 409

    assert (await client.delete(f"{path}/members/KFOR", headers=auth("unmik.chief"))).status_code == 200
    assert (await client.get(path, headers=auth("kfor.j2"))).status_code == 404
    assert (await client.delete(path, headers=auth("unmik.chief"))).status_code == 204
    assert (await client.get(path, headers=auth("unmik.chief"))).status_code == 404

    events = await _actions(db_url, since)
    assert [e.action for e in events] == [
        "sharing_group.create",
        "sharing_group.member_add",
        "sharing_group.update",
        "sharing_group.member_remove",
        "sharing_group.delete",
    ]
    assert all(e.actor_name.endswith("(unmik.chief)") for e in events)
    update = events[2]
    assert update.before is not None
    assert update.after is not None
    assert (update.before["name"], update.after["name"]) == ("Ibar bridge cell", rename["name"])
    assert events[-1].before is not None
    assert events[-1].before["members"] == ["EULEX"]


async def test_a_group_release_takes_effect_and_removing_a_member_hides_at_once(
    client: httpx.AsyncClient,
) -> None:
    group = (await new_group(client, "unmik.chief", "Northern fuel group", ["OMIK"])).json()
    case_id = await new_case(client, "unmik.analyst")
    assert not await _reads(client, "omik.adviser", case_id)

    released = await client.patch(
        f"/api/v1/cases/{case_id}",
        json={
            "markings": {"classification": "RESTRICTED", "tlp": "AMBER", "sharing_group_ids": [group["id"]]}
        },
        headers=auth("unmik.analyst"),
    )
    assert released.status_code == 200, released.text
    assert await _reads(client, "omik.adviser", case_id)
    assert not await _reads(client, "unodc.expert", case_id)

    refused = await client.delete(f"/api/v1/sharing-groups/{group['id']}", headers=auth("unmik.chief"))
    assert refused.status_code == 409
    assert "released to this group" in refused.json()["detail"]["message"]

    removed = await client.delete(
        f"/api/v1/sharing-groups/{group['id']}/members/OMIK", headers=auth("unmik.chief")
    )
    assert removed.status_code == 200
    assert removed.json()["members"] == []
    assert not await _reads(client, "omik.adviser", case_id)


async def test_a_member_cannot_be_added_over_another_agency_s_release(client: httpx.AsyncClient) -> None:
    group = (await new_group(client, "unmik.chief", "Prosecution liaison", ["EULEX", "UNMIK"])).json()
    eulex_case = await new_case(client, "eulex.prosecutor", sharing_group_ids=[group["id"]])
    assert await _reads(client, "unmik.analyst", eulex_case)

    # OMIK joining would widen EULEX's release without EULEX's decision.
    refused = await client.post(
        f"/api/v1/sharing-groups/{group['id']}/members", json={"agency": "OMIK"}, headers=auth("unmik.chief")
    )
    assert refused.status_code == 403
    assert "widen" in refused.json()["detail"]["message"]
    assert not await _reads(client, "omik.adviser", eulex_case)
    # A group carrying only UNMIK's own records may grow.
    own = (await new_group(client, "unmik.chief", "UNMIK only", [])).json()
    await new_case(client, "unmik.analyst", sharing_group_ids=[own["id"]])
    grown = await client.post(
        f"/api/v1/sharing-groups/{own['id']}/members", json={"agency": "OMIK"}, headers=auth("unmik.chief")
    )
    assert grown.status_code == 200, grown.text


# Sharing agreements


async def test_an_agreement_grants_while_valid_and_stops_when_ended(
    client: httpx.AsyncClient, db_url: str
) -> None:
    case_id = await new_case(client, "eulex.prosecutor")
    assert not await _reads(client, "unmik.analyst", case_id)
    since = len(await audit_rows(db_url))

    body = {
        "title": "EULEX-UNMIK residual files arrangement",
        "grantee_agency": "UNMIK",
        "valid_from": _at(days=-1),
        "valid_until": _at(days=90),
        "max_classification": "RESTRICTED",
    }
    for login in ("eulex.prosecutor", "kfor.j2", "admin"):
        assert (await client.post("/api/v1/agreements", json=body, headers=auth(login))).status_code == 403
    # The grantor is always the administrator's own agency: nobody signs for another.
    on_behalf = await client.post(
        "/api/v1/agreements", json={**body, "grantor_agency": "EULEX"}, headers=auth("unmik.chief")
    )
    assert on_behalf.status_code == 422
    assert on_behalf.json()["detail"]["field"] == "grantor_agency"
    created = await client.post("/api/v1/agreements", json=body, headers=auth("eulex.chief"))
    assert created.status_code == 201, created.text
    agreement = created.json()
    assert (agreement["grantor_agency"], agreement["grantee_agency"]) == ("EULEX", "UNMIK")
    assert (agreement["status"], agreement["max_classification"]) == ("in_force", "RESTRICTED")
    assert await _reads(client, "unmik.analyst", case_id)

    # Parties list it; nobody else sees it, even by id.
    path = f"/api/v1/agreements/{agreement['id']}"
    for login, expected in (
        ("unmik.analyst", True),
        ("eulex.chief", True),
        ("kfor.j2", False),
        ("admin", False),
    ):
        listed = (await client.get("/api/v1/agreements", headers=auth(login))).json()
        assert (agreement["id"] in {a["id"] for a in listed}) is expected, login
        assert (await client.get(path, headers=auth(login))).status_code == (200 if expected else 404)
    kfor_list = (await client.get("/api/v1/agreements", headers=auth("kfor.j2"))).json()
    assert all("KFOR" in (a["grantor_agency"], a["grantee_agency"]) for a in kfor_list)

    # Only the grantor's administrators end it.
    assert (await client.post(f"{path}/end", headers=auth("unmik.chief"))).status_code == 403
    assert (await client.post(f"{path}/end", headers=auth("eulex.prosecutor"))).status_code == 403
    assert (await client.post(f"{path}/end", headers=auth("kfor.j2"))).status_code == 404
    assert await _reads(client, "unmik.analyst", case_id)
    ended = await client.post(f"{path}/end", headers=auth("eulex.chief"))
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended"
    assert not await _reads(client, "unmik.analyst", case_id)
    again = await client.post(f"{path}/end", headers=auth("eulex.chief"))
    assert again.status_code == 409
    assert "cannot be reopened" in again.json()["detail"]["message"]
    assert (await client.delete(path, headers=auth("eulex.chief"))).status_code == 409

    events = await _actions(db_url, since)
    assert [e.action for e in events] == ["agreement.create", "agreement.end"]
    assert events[1].before is not None
    assert events[1].after is not None
    assert (events[1].before["status"], events[1].after["status"]) == ("in_force", "ended")
    assert events[1].after["valid_until"] < events[1].before["valid_until"]


async def test_agreement_input_rules(client: httpx.AsyncClient, db_url: str) -> None:
    good = {
        "title": "EULEX-OMIK monitoring exchange",
        "grantee_agency": "OMIK",
        "valid_from": _at(days=10),
        "valid_until": _at(days=100),
    }
    audits = await count_rows(db_url, AuditEvent)
    for change, field in (
        ({"valid_until": _at(days=5)}, "valid_until"),
        ({"valid_from": _at(days=-30), "valid_until": _at(days=-1)}, "valid_until"),
        ({"valid_from": "2030-01-01T00:00:00"}, "valid_from"),
        ({"grantee_agency": "NOSUCH"}, "grantee_agency"),
        ({"grantee_agency": "EULEX"}, "grantee_agency"),
        ({"max_classification": "TOP SECRET"}, "max_classification"),
        ({"title": ""}, "title"),
    ):
        response = await client.post(
            "/api/v1/agreements", json={**good, **change}, headers=auth("eulex.chief")
        )
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"]["field"] == field, response.text
    assert await count_rows(db_url, AuditEvent) == audits

    # Not yet in force: it can be withdrawn, not ended.
    pending = (await client.post("/api/v1/agreements", json=good, headers=auth("eulex.chief"))).json()
    assert pending["status"] == "pending"
    path = f"/api/v1/agreements/{pending['id']}"
    assert (await client.post(f"{path}/end", headers=auth("eulex.chief"))).status_code == 409
    assert (await client.delete(path, headers=auth("omik.adviser"))).status_code == 403
    assert (await client.delete(path, headers=auth("eulex.chief"))).status_code == 204
    assert (await client.get(path, headers=auth("eulex.chief"))).status_code == 404
    actions = [e.action for e in await audit_rows(db_url) if e.action.startswith("agreement.")]
    assert actions[-2:] == ["agreement.create", "agreement.withdraw"]

    # An administrator cannot open to another agency what they may not read themselves.
    await lower_clearance(db_url, "eulex.chief", Classification.CONFIDENTIAL)
    above = await client.post(
        "/api/v1/agreements", json={**good, "max_classification": "SECRET"}, headers=auth("eulex.chief")
    )
    assert above.status_code == 422
    assert above.json()["detail"]["field"] == "max_classification"
    within = {**good, "max_classification": "CONFIDENTIAL"}
    assert (
        await client.post("/api/v1/agreements", json=within, headers=auth("eulex.chief"))
    ).status_code == 201


# Grants on a record


async def test_grant_create_list_and_revoke(client: httpx.AsyncClient, db_url: str) -> None:
    case_id = await new_case(client, "unmik.analyst")
    assert not await _reads(client, "kfor.j2", case_id)
    grants = f"/api/v1/records/{case_id}/grants"
    since = len(await audit_rows(db_url))

    to_kfor = await client.post(
        grants,
        json={"agency": "KFOR", "expires_at": _at(days=30), "reason": "Joint patrols on the Ibar bridge."},
        headers=auth("unmik.analyst"),
    )
    assert to_kfor.status_code == 201, to_kfor.text
    grant = to_kfor.json()
    assert (grant["agency"], grant["user"], grant["granted_by"], grant["active"]) == (
        "KFOR",
        None,
        "unmik.analyst",
        True,
    )
    assert await _reads(client, "kfor.j2", case_id)
    to_user = await client.post(
        grants,
        json={"user": "omik.adviser", "expires_at": _at(days=7), "reason": "Monitoring report."},
        headers=auth("unmik.analyst"),
    )
    assert to_user.status_code == 201, to_user.text
    assert await _reads(client, "omik.adviser", case_id)
    assert not await _reads(client, "unodc.expert", case_id)

    # Readers may list; for anyone else the record is missing, in the same words.
    listed = (await client.get(grants, headers=auth("kfor.j2"))).json()
    assert {(g["agency"], g["user"]) for g in listed} == {("KFOR", None), (None, "omik.adviser")}
    hidden = await client.get(grants, headers=auth("interpol.liaison"))
    missing = await client.get(f"/api/v1/records/{MISSING}/grants", headers=auth("interpol.liaison"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert (await client.get(grants, headers=auth("admin"))).status_code == 404

    # Only the owner's authorised users grant or revoke.
    payload = {"agency": "UNODC", "expires_at": _at(days=3), "reason": "Wider analysis."}
    assert (await client.post(grants, json=payload, headers=auth("kfor.j2"))).status_code == 403
    assert (await client.post(grants, json=payload, headers=auth("interpol.liaison"))).status_code == 404
    revoke = f"/api/v1/grants/{grant['id']}"
    assert (await client.delete(revoke, headers=auth("kfor.j2"))).status_code == 403
    assert (await client.delete(revoke, headers=auth("interpol.liaison"))).status_code == 404
    assert await _reads(client, "kfor.j2", case_id)
    assert (await client.delete(revoke, headers=auth("unmik.chief"))).status_code == 204
    assert not await _reads(client, "kfor.j2", case_id)
    assert await _reads(client, "omik.adviser", case_id)
    assert (await client.delete(revoke, headers=auth("unmik.chief"))).status_code == 404

    events = await _actions(db_url, since)
    assert [e.action for e in events] == ["grant.create", "grant.create", "grant.revoke"]
    assert all((str(e.record_id), e.record_kind) == (case_id, "case") for e in events)
    assert events[-1].before is not None
    assert events[-1].before["agency"] == "KFOR"
    assert events[-1].after is None


async def test_grant_expiry_and_grantee_are_checked(client: httpx.AsyncClient, db_url: str) -> None:
    case_id = await new_case(client, "unmik.analyst")
    grants = f"/api/v1/records/{case_id}/grants"
    valid = {"agency": "KFOR", "expires_at": _at(days=30), "reason": "Joint patrols."}
    audits = await count_rows(db_url, AuditEvent)
    for change, field in (
        ({"expires_at": _at(hours=-1)}, "expires_at"),
        ({"expires_at": _at(days=366)}, "expires_at"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": None}, "expires_at"),
        ({"user": "kfor.j2"}, "agency"),
        ({"agency": None}, "agency"),
        ({"agency": "NOSUCH"}, "agency"),
        ({"agency": None, "user": "ghost.user"}, "user"),
        ({"agency": None, "user": "admin"}, "user"),
        ({"reason": ""}, "reason"),
    ):
        body = {k: v for k, v in {**valid, **change}.items() if v is not None}
        response = await client.post(grants, json=body, headers=auth("unmik.analyst"))
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"]["field"] == field, response.text
    assert await count_rows(db_url, AuditEvent) == audits
    assert not await _reads(client, "kfor.j2", case_id)

    assert (await client.post(grants, json=valid, headers=auth("unmik.analyst"))).status_code == 201
    duplicate = await client.post(grants, json=valid, headers=auth("unmik.analyst"))
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"]["field"] == "agency"


async def test_nohost_records_refuse_grants_to_host_nation(client: httpx.AsyncClient) -> None:
    nohost = await new_case(client, "unmik.analyst", nohost=True)
    for body, field in (({"agency": "KP"}, "agency"), ({"user": "kp.investigator"}, "user")):
        refused = await client.post(
            f"/api/v1/records/{nohost}/grants",
            json={**body, "expires_at": _at(days=30), "reason": "Joint operation."},
            headers=auth("unmik.analyst"),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"]["field"] == field
        assert "NOHOST" in refused.json()["detail"]["message"]
    # The same grant on a record without NOHOST is allowed, and reaches the host-nation reader.
    plain = await new_case(client, "unmik.analyst")
    granted = await client.post(
        f"/api/v1/records/{plain}/grants",
        json={"user": "kp.investigator", "expires_at": _at(days=30), "reason": "Joint operation."},
        headers=auth("unmik.analyst"),
    )
    assert granted.status_code == 201, granted.text
    assert await _reads(client, "kp.investigator", plain)
    assert not await _reads(client, "kp.investigator", nohost)


async def test_orcon_owner_who_is_not_the_originator_cannot_grant(
    client: httpx.AsyncClient, db_url: str
) -> None:
    orcon = await new_case(client, "unmik.analyst", orcon=True, releasable_to=["EULEX"])
    plain = await new_case(client, "unmik.analyst", releasable_to=["EULEX"])
    for record_id in (orcon, plain):
        await _transfer_ownership(db_url, record_id, "EULEX")
    body = {"agency": "KFOR", "expires_at": _at(days=30), "reason": "Force protection."}

    refused = await client.post(
        f"/api/v1/records/{orcon}/grants", json=body, headers=auth("eulex.prosecutor")
    )
    assert refused.status_code == 403
    assert "ORCON" in refused.json()["detail"]["message"]
    # The originator is no longer the owner: it may not grant either.
    originator = await client.post(
        f"/api/v1/records/{orcon}/grants", json=body, headers=auth("unmik.analyst")
    )
    assert originator.status_code == 403
    assert not await _reads(client, "kfor.j2", orcon)
    # Without ORCON the new owner decides.
    allowed = await client.post(
        f"/api/v1/records/{plain}/grants", json=body, headers=auth("eulex.prosecutor")
    )
    assert allowed.status_code == 201, allowed.text
    assert await _reads(client, "kfor.j2", plain)


# GraphQL

GROUP_FIELDS = "__typename ... on SharingGroupPayload { sharingGroup { id name ownerAgency members } } ... on UserError { message field }"
GRANT_FIELDS = "__typename ... on GrantPayload { grant { id agency user active grantedBy } } ... on UserError { message field }"


async def test_graphql_groups_agreements_and_grants(client: httpx.AsyncClient, db_url: str) -> None:
    since = len(await audit_rows(db_url))
    create_group = f"mutation($input: CreateSharingGroupInput!) {{ createSharingGroup(input: $input) {{ {GROUP_FIELDS} }} }}"
    variables = {"input": {"name": "Mitrovica bridge cell", "members": ["KFOR"]}}
    refused = (await gql(client, "unmik.analyst", create_group, variables))["data"]["createSharingGroup"]
    assert refused["__typename"] == "ForbiddenError"
    created = (await gql(client, "unmik.chief", create_group, variables))["data"]["createSharingGroup"]
    assert created["__typename"] == "SharingGroupPayload", created
    group = created["sharingGroup"]
    assert (group["ownerAgency"], group["members"]) == ("UNMIK", ["KFOR"])
    duplicate = (await gql(client, "unmik.chief", create_group, variables))["data"]["createSharingGroup"]
    assert (duplicate["__typename"], duplicate["field"]) == ("ConflictError", "name")

    listing = "{ sharingGroups { nodes { id name members } } }"
    assert group["id"] in {
        g["id"] for g in (await gql(client, "kfor.j2", listing))["data"]["sharingGroups"]["nodes"]
    }
    assert group["id"] not in {
        g["id"] for g in (await gql(client, "omik.adviser", listing))["data"]["sharingGroups"]["nodes"]
    }

    update = f"mutation($input: UpdateSharingGroupInput!) {{ updateSharingGroup(input: $input) {{ {GROUP_FIELDS} }} }}"
    by_member = (await gql(client, "kfor.j2", update, {"input": {"id": group["id"], "name": "x"}}))["data"]
    assert by_member["updateSharingGroup"]["__typename"] == "ForbiddenError"
    by_stranger = (await gql(client, "eulex.chief", update, {"input": {"id": group["id"], "name": "x"}}))[
        "data"
    ]
    assert by_stranger["updateSharingGroup"]["__typename"] == "NotFoundError"
    add = f"mutation($input: SharingGroupMemberInput!) {{ addSharingGroupMember(input: $input) {{ {GROUP_FIELDS} }} }}"
    added = (await gql(client, "unmik.chief", add, {"input": {"groupId": group["id"], "agency": "OMIK"}}))[
        "data"
    ]
    assert added["addSharingGroupMember"]["sharingGroup"]["members"] == ["KFOR", "OMIK"]

    case_id = await new_case(client, "unmik.analyst", nohost=True)
    create_grant = (
        f"mutation($input: CreateGrantInput!) {{ createGrant(input: $input) {{ {GRANT_FIELDS} }} }}"
    )
    grant_input = {
        "recordId": case_id,
        "agency": "KFOR",
        "expiresAt": _at(days=30),
        "reason": "Bridge patrols.",
    }
    too_late = await gql(
        client, "unmik.analyst", create_grant, {"input": {**grant_input, "expiresAt": _at(days=400)}}
    )
    assert (too_late["data"]["createGrant"]["__typename"], too_late["data"]["createGrant"]["field"]) == (
        "InvalidInputError",
        "expiresAt",
    )
    to_host = await gql(client, "unmik.analyst", create_grant, {"input": {**grant_input, "agency": "KP"}})
    assert (to_host["data"]["createGrant"]["__typename"], to_host["data"]["createGrant"]["field"]) == (
        "InvalidInputError",
        "agency",
    )
    granted = (await gql(client, "unmik.analyst", create_grant, {"input": grant_input}))["data"][
        "createGrant"
    ]
    assert granted["__typename"] == "GrantPayload", granted
    assert (granted["grant"]["agency"], granted["grant"]["active"]) == ("KFOR", True)
    assert await _reads(client, "kfor.j2", case_id)

    grants_query = "query($id: ID!) { grants(recordId: $id) { nodes { id agency reason } } }"
    seen = (await gql(client, "kfor.j2", grants_query, {"id": case_id}))["data"]["grants"]["nodes"]
    assert [g["id"] for g in seen] == [granted["grant"]["id"]]
    hidden = await gql(client, "interpol.liaison", grants_query, {"id": case_id})
    absent = await gql(client, "interpol.liaison", grants_query, {"id": MISSING})
    assert (hidden["data"], absent["data"]) == (None, None)
    assert (
        [e["message"] for e in hidden["errors"]]
        == [e["message"] for e in absent["errors"]]
        == ["record not found"]
    )

    revoke = "mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) { __typename ... on RevokeGrantPayload { grant { id } } } }"
    revoked = await gql(client, "unmik.analyst", revoke, {"input": {"id": granted["grant"]["id"]}})
    assert revoked["data"]["revokeGrant"]["__typename"] == "RevokeGrantPayload"
    assert not await _reads(client, "kfor.j2", case_id)

    create_agreement = """
      mutation($input: CreateAgreementInput!) {
        createAgreement(input: $input) {
          __typename ... on AgreementPayload { agreement { id status grantorAgency maxClassification } }
          ... on UserError { field }
        }
      }"""
    agreement_input = {
        "title": "UNMIK-OMIK monitoring exchange",
        "granteeAgency": "OMIK",
        "validFrom": _at(days=-1),
        "validUntil": _at(days=60),
        "maxClassification": "RESTRICTED",
    }
    made = (await gql(client, "unmik.chief", create_agreement, {"input": agreement_input}))["data"]
    agreement = made["createAgreement"]["agreement"]
    assert (agreement["status"], agreement["grantorAgency"]) == ("IN_FORCE", "UNMIK")
    end = "mutation($id: ID!) { endAgreement(input: {id: $id}) { __typename ... on AgreementPayload { agreement { status } } } }"
    assert (await gql(client, "omik.adviser", end, {"id": agreement["id"]}))["data"]["endAgreement"][
        "__typename"
    ] == "ForbiddenError"
    ended = (await gql(client, "unmik.chief", end, {"id": agreement["id"]}))["data"]["endAgreement"]
    assert ended == {"__typename": "AgreementPayload", "agreement": {"status": "ENDED"}}
    listed = await gql(client, "omik.adviser", "{ agreements { nodes { id } } }")
    assert agreement["id"] in {a["id"] for a in listed["data"]["agreements"]["nodes"]}

    assert [e.action for e in await _actions(db_url, since)] == [
        "sharing_group.create",
        "sharing_group.member_add",
        "grant.create",
        "grant.revoke",
        "agreement.create",
        "agreement.end",
    ]
