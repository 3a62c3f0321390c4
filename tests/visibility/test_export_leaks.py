"""The leak hunt of tests/visibility/test_leak_hunt.py, on the export paths: STIX bundles (all,
per case, per item) and printable case files must carry no trace of an unreadable
record, and the full bundle must carry every readable intelligence item."""

import asyncio
from datetime import UTC, datetime

import httpx
from hypothesis import HealthCheck, given, settings

from ocpo_coord.app import create_app
from ocpo_coord.auth.principal import Principal
from ocpo_coord.models.enums import RecordKind
from ocpo_coord.visibility.readable import can_read
from tests.conftest import auth
from tests.visibility.test_leak_hunt import READERS, Spec, Written, _write, specs


async def _exports_seen(client: httpx.AsyncClient, login: str, written: Written) -> str:
    headers = auth(login)
    seen = [(await client.get("/api/v1/stix/bundle", params={"limit": 1000}, headers=headers)).text]
    for record in written.records:
        if record.kind == RecordKind.CASE:
            seen.append(
                (
                    await client.get(
                        "/api/v1/stix/bundle", params={"case_id": str(record.id)}, headers=headers
                    )
                ).text
            )
            seen.append((await client.get(f"/api/v1/cases/{record.id}/file.html", headers=headers)).text)
        if record.kind == RecordKind.INTEL_ITEM:
            seen.append((await client.get(f"/api/v1/intel-items/{record.id}/stix", headers=headers)).text)
    graph = await client.post("/graphql", json={"query": "{ stixBundle(first: 1000) }"}, headers=headers)
    seen.append(graph.text)
    return "\n".join(seen)


async def _check(client: httpx.AsyncClient, written: Written, principals: dict[str, Principal]) -> None:
    now = datetime.now(UTC)
    for login in READERS:
        principal = principals[login]
        text = await _exports_seen(client, login, written)
        for record, token in zip(written.records, written.tokens, strict=True):
            facts = written.facts[record.id]
            parent = written.facts.get(record.parent_id) if record.parent_id else None
            if can_read(principal, now, facts, parent):
                if record.kind == RecordKind.INTEL_ITEM:
                    assert token in text, f"{login} should find readable intelligence {token}"
            else:
                assert token not in text, f"{login} saw the token of unreadable {record.kind}"
                assert str(record.id) not in text, f"{login} saw the id of unreadable {record.kind}"
        leaked = [hidden for hidden in written.hidden[login] if str(hidden) in text]
        assert not leaked, f"{login} saw ids of records it may not read: {leaked}"


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=specs())
def test_no_export_leaks_an_unreadable_record(db_url: str, plan: list[Spec]) -> None:
    written, principals = _write(db_url, plan)

    async def hunt() -> None:
        app = create_app(database_url=db_url)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test"
            ) as client:
                await _check(client, written, principals)
        finally:
            await app.state.sessionmaker.kw["bind"].dispose()

    asyncio.run(hunt())
