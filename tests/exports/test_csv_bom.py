"""CSV downloads open in a spreadsheet with their letters intact: a UTF-8 byte-order mark
by default, none on request, and the formula-injection guard as before."""

import httpx

from tests.conftest import auth

LOGIN = "unmik.chief"


async def test_csv_downloads_start_with_a_utf8_byte_order_mark(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/tasks",
        json={
            "title": '=HYPERLINK("http://x") Ђорђе Шаровић, Jarinje',
            "activity_area": "border_control",
            "theatre": "KOS",
        },
        headers=auth(LOGIN),
    )
    assert created.status_code == 201, created.text
    for path, params in (
        ("/api/v1/tasks.csv", {}),
        ("/api/v1/responsibilities/matrix.csv", {"theatre": "KOS"}),
    ):
        response = await client.get(path, params=params, headers=auth(LOGIN))
        assert response.status_code == 200, response.text
        assert response.content.startswith(b"\xef\xbb\xbf"), path
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
    board = (await client.get("/api/v1/tasks.csv", headers=auth(LOGIN))).content.decode("utf-8-sig")
    assert "Ђорђе Шаровић" in board
    # The guard still defuses a cell that starts like a formula.
    assert "'=HYPERLINK" in board
    assert ",=HYPERLINK" not in board
    assert '"=HYPERLINK' not in board


async def test_the_mark_can_be_left_out(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tasks.csv", params={"bom": "false"}, headers=auth(LOGIN))
    assert response.status_code == 200
    assert not response.content.startswith(b"\xef\xbb\xbf")
