"""A page as the service served it, with the statements it sent for it."""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from tests.conftest import auth


async def served(
    app: FastAPI, client: httpx.AsyncClient, path: str, login: str, limit: int, after: str | None
) -> tuple[list[str], Any]:
    """The statement texts the service sent for one page at ``path``, and the page."""
    engine = app.state.sessionmaker.kw["bind"].sync_engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await client.get(path, params=params, headers=auth(login))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    return sent, response.json()
