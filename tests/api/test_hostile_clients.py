"""Hostile and broken clients: bodies built to break parsers, tokens with impossible
logins, and connections that hold the server (huge headers, half a header, a body that
stops arriving). Each is refused in the one error shape, and nothing is written."""

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from ocpo_coord.auth.keys import LOCAL_KEY_ID, load_or_create_private_key
from ocpo_coord.config import get_settings
from tests.conftest import auth


def nested(depth: int) -> bytes:
    return b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * depth + b"]" * depth + b"}}"


async def test_a_graphql_body_nested_a_thousand_deep_is_refused_like_rest(client: httpx.AsyncClient) -> None:
    for depth in (1_000, 100_000):
        for path in ("/graphql", "/api/v1/cases"):
            response = await client.post(
                path,
                content=nested(depth),
                headers={**auth("unmik.analyst"), "content-type": "application/json"},
            )
            assert response.status_code == 400, (path, depth, response.text)
            assert set(response.json()["detail"]) == {"code", "message", "field"}


def signed(claims: dict[str, object]) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    key = load_or_create_private_key(settings.signing_key_path)
    body = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode({**body, **claims}, key, algorithm="RS256", headers={"kid": LOCAL_KEY_ID})


@pytest.mark.parametrize(
    "login",
    ["unmik.analyst\u0000", "\u0000", "unmik\u0000.analyst", "unmik.analyst\n", "x" * 10_000],
)
async def test_a_validly_signed_token_with_an_impossible_login_is_refused(
    client: httpx.AsyncClient, login: str
) -> None:
    token = signed({"sub": login, "preferred_username": login})
    headers = {"Authorization": f"Bearer {token}"}
    for response in (
        await client.get("/api/v1/cases", headers=headers),
        await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["detail"]["code"] == "UNAUTHENTICATED"
