"""CSV exports of the task board and the responsibility matrix, within the sharing rules."""

import csv
import io
from typing import Any

import httpx

from tests.conftest import auth
from tests.fixtures.queries import audit_rows


def parse(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    # UTF-8 with a byte-order mark, so that a spreadsheet reads Cyrillic and diacritics.
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def all_tasks(client: httpx.AsyncClient, login: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        query = {"limit": 100, **params} | ({"after": after} if after else {})
        body = (await client.get("/api/v1/tasks", params=query, headers=auth(login))).json()
        items += body["items"]
        after = body["next_cursor"]
        if not after:
            return items


async def test_a_spreadsheet_reads_cyrillic_and_albanian_letters(client: httpx.AsyncClient) -> None:
    title = "Патрола Мердаре: kontroll në Merdarë"
    created = await client.post(
        "/api/v1/tasks",
        json={"title": title, "activity_area": "border_control", "theatre": "KOS"},
        headers=auth("unmik.chief"),
    )
    assert created.status_code == 201, created.text
    rows = parse(
        await client.get("/api/v1/tasks.csv", params={"theatre": "KOS"}, headers=auth("unmik.chief"))
    )
    assert title in {row["title"] for row in rows}
    assert "id" in rows[0], "the mark is not read as part of the first column's name"


async def test_task_board_csv_holds_exactly_the_readable_tasks(
    client: httpx.AsyncClient, db_url: str
) -> None:
    for login in ("unmik.analyst", "kp.investigator", "eulex.chief"):
        rows = parse(await client.get("/api/v1/tasks.csv", params={"theatre": "KOS"}, headers=auth(login)))
        expected = await all_tasks(client, login, theatre="KOS")
        assert {r["id"] for r in rows} == {t["id"] for t in expected}
        by_id = {t["id"]: t for t in expected}
        for row in rows:
            assert row["title"] == by_id[row["id"]]["title"]
            assert row["lead_agency"] == by_id[row["id"]]["lead_agency"]
    analyst = {r["id"] for r in parse(await client.get("/api/v1/tasks.csv", headers=auth("unmik.analyst")))}
    chief = {r["id"] for r in parse(await client.get("/api/v1/tasks.csv", headers=auth("unmik.chief")))}
    assert chief - analyst, "the chief reads tasks the analyst may not; the export must not carry them"
    exports = [e for e in await audit_rows(db_url) if e.action == "task.export"]
    assert len(exports) == 5
    assert exports[-1].after is not None
    assert set(exports[-1].after["ids"]) == chief


async def test_a_formula_in_a_title_is_defused(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/tasks",
        json={"title": '=HYPERLINK("http://evil","x")', "activity_area": "border_control", "theatre": "KOS"},
        headers=auth("unmik.analyst"),
    )
    assert created.status_code == 201, created.text
    rows = parse(await client.get("/api/v1/tasks.csv", headers=auth("unmik.analyst")))
    row = next(r for r in rows if r["id"] == created.json()["id"])
    assert row["title"] == '\'=HYPERLINK("http://evil","x")'


async def test_matrix_csv_flags_overlaps_and_gaps(client: httpx.AsyncClient) -> None:
    params = {"theatre": "KOS", "on": "2008-06-01"}
    rows = parse(
        await client.get("/api/v1/responsibilities/matrix.csv", params=params, headers=auth("unmik.chief"))
    )
    matrix = (
        await client.get("/api/v1/responsibilities/matrix", params=params, headers=auth("unmik.chief"))
    ).json()
    by_area = {r["activity_area"]: r for r in rows}
    assert by_area["border_control"]["overlap"] == "yes"
    assert {g["activity_area"] for g in matrix["gaps"]} == {
        a for a, r in by_area.items() if r["gap"] == "yes"
    }
    for row in matrix["rows"]:
        for cell in row["cells"]:
            assert by_area[row["activity_area"]][cell["agency"]] == "+".join(cell["roles"])
    outsider = await client.get(
        "/api/v1/responsibilities/matrix.csv", params=params, headers=auth("minustah.analyst")
    )
    assert outsider.status_code == 403
    assert outsider.headers["content-type"].startswith("application/json")
