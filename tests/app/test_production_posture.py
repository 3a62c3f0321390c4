"""Production posture: what the service publishes, which tokens it takes, what it refuses
to start with, and what its pool figures say."""

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from ocpo_coord.app import create_app
from ocpo_coord.audit.keys import create_key_file
from ocpo_coord.auth.keys import LOCAL_KEY_ID, load_or_create_private_key
from ocpo_coord.config import ApiDocs, Settings, get_settings
from tests.app.test_posture import PRODUCTION
from tests.conftest import auth
from tests.fixtures.oidc import Provider


@pytest.fixture
def backend() -> str:
    """Tokens, settings and published pages do not depend on the database: SQLite only
    (the pool figure is read on both backends in ``test_pool_overflow_is_never_negative``)."""
    return "sqlite"


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    p.rotate("key-1")
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture
async def served(db_url: str) -> AsyncIterator[Any]:
    apps: list[FastAPI] = []

    async def serve(settings: Settings) -> httpx.AsyncClient:
        app = create_app(database_url=db_url, settings=settings)
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ocpo.test")

    yield serve
    for app in apps:
        await app.state.sessionmaker.kw["bind"].dispose()


DOCS = ("/docs", "/redoc", "/openapi.json")


async def test_production_publishes_no_api_description(
    served: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OCPO_DATABASE_URL")
    # Production names its audit log key, which its administrator made beforehand.
    key = tmp_path / "audit-log.key"
    create_key_file(key, Settings(**PRODUCTION).installation_name)
    production = Settings(**PRODUCTION, audit_key_path=key)
    assert production.api_docs_mode is ApiDocs.OFF
    async with await served(production) as client:
        for path in DOCS:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert set(response.json()["detail"]) == {"code", "message", "field"}


async def test_the_api_description_can_be_for_signed_in_users_only(served: Any) -> None:
    settings = get_settings().model_copy(update={"api_docs": ApiDocs.SIGNED_IN})
    async with await served(settings) as client:
        for path in DOCS:
            anonymous = await client.get(path)
            assert anonymous.status_code == 401, path
            assert anonymous.json()["detail"]["code"] == "UNAUTHENTICATED"
            forged = await client.get(path, headers={"Authorization": "Bearer not.a.token"})
            assert forged.status_code == 401
            assert (await client.get(path, headers=auth("unmik.analyst"))).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cors_origins": "*"}, "OCPO_CORS_ORIGINS must name the origins in production"),
        ({"jwks_url": "http://sso.example.org/certs"}, "OCPO_JWKS_URL must be an https URL"),
        (
            {"jwks_url": None, "oidc_issuer": "http://sso.example.org/realms/ocpo"},
            "OCPO_OIDC_ISSUER must be an https URL",
        ),
    ],
    ids=["cors-any-origin", "jwks-over-http", "issuer-over-http"],
)
def test_production_refuses_an_open_cors_policy_and_keys_over_http(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], message: str
) -> None:
    monkeypatch.delenv("OCPO_DATABASE_URL")
    values = {**PRODUCTION, **change}
    with pytest.raises(ValueError, match=message):
        Settings(**{name: value for name, value in values.items() if value is not None})


async def test_an_unknown_key_is_refused_without_naming_where_keys_come_from(
    served: Any, provider: Provider
) -> None:
    settings = Settings(environment="test", jwks_url=provider.jwks_uri, jwt_issuer=provider.issuer)
    async with await served(settings) as client:
        response = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {_other_key_token(provider)}"}
        )
    assert response.status_code == 401
    message = response.json()["detail"]["message"]
    assert message == "token signing key not found"
    assert "127.0.0.1" not in response.text
    assert "certs" not in response.text


def _other_key_token(provider: Provider) -> str:
    provider.keys["key-2"] = provider.keys["key-1"]
    token = provider.token("key-2")
    del provider.keys["key-2"]
    return token


def local_token(
    *, kid: str | None = LOCAL_KEY_ID, lifetime: timedelta = timedelta(minutes=5), **extra: Any
) -> str:
    settings = get_settings()
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "preferred_username": "unmik.analyst",
        "iat": now,
        "exp": now + lifetime,
        **extra,
    }
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, load_or_create_private_key(settings.signing_key_path), "RS256", headers=headers)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: local_token(lifetime=timedelta(days=365 * 100)), "token lifetime is longer than"),
        (lambda: local_token(lifetime=timedelta(days=2)), "token lifetime is longer than"),
        (lambda: local_token(kid="someone-elses-key"), "token signing key not found"),
        (lambda: local_token(kid=None), "token signing key not found"),
    ],
    ids=["a-century", "two-days", "other-kid", "no-kid"],
)
async def test_tokens_of_the_local_key_are_checked_like_a_providers(
    client: httpx.AsyncClient, token: Any, message: str
) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 401, response.text
    assert response.json()["detail"]["message"].startswith(message)
    # A day's token, as before, is accepted.
    day = local_token(lifetime=timedelta(hours=23))
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {day}"})).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_pool_overflow_is_never_negative(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/cases", headers=auth("unmik.analyst"))
    metrics = (await client.get("/metrics")).text
    overflow = re.search(r'^ocpo_db_pool_overflow\{dialect="\w+"\} (\S+)$', metrics, re.MULTILINE)
    size = re.search(r'^ocpo_db_pool_size\{dialect="\w+"\} (\S+)$', metrics, re.MULTILINE)
    assert overflow is not None
    assert size is not None
    assert float(overflow.group(1)) == 0.0  # one request, well within the pool's size
    assert float(size.group(1)) > 0
