"""OpenID Connect: the issuer URL is enough; keys rotate; bad tokens get a clear 401."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from ocpo_coord.app import create_app
from ocpo_coord.auth.jwks import JwksKeys
from ocpo_coord.auth.oidc import OidcKeys
from ocpo_coord.auth.tokens import verify_token
from ocpo_coord.config import Settings
from ocpo_coord.exceptions import Unauthenticated, Unavailable
from tests.fixtures.oidc import AUDIENCE, Provider


@pytest.fixture
def backend() -> str:
    """What this file checks (headers, tokens, errors) does not depend on the database:
    it runs on SQLite only, and every database test elsewhere runs on both."""
    return "sqlite"


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    p.rotate("key-1")
    yield p
    p.server.shutdown()
    p.server.server_close()


def _settings(issuer: str, **extra: Any) -> Settings:
    return Settings(environment="test", oidc_issuer=issuer, jwt_audience=AUDIENCE, **extra)


@pytest.fixture
async def oidc_app(db_url: str, provider: Provider) -> AsyncIterator[FastAPI]:
    application = create_app(database_url=db_url, settings=_settings(provider.issuer))
    yield application
    await application.state.sessionmaker.kw["bind"].dispose()


async def _me(app: FastAPI, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ocpo.test") as http:
        return await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


async def test_issuer_url_is_enough_and_rotation_is_followed(oidc_app: FastAPI, provider: Provider) -> None:
    first = provider.token("key-1")
    response = await _me(oidc_app, first)
    assert response.status_code == 200, response.text
    assert response.json()["login"] == "unmik.analyst"
    provider.rotate("key-2")
    # A token signed with the new key names an unknown kid: the keys are fetched again.
    second = await _me(oidc_app, provider.token("key-2"))
    assert second.status_code == 200, second.text
    # The withdrawn key no longer signs anything acceptable.
    old = await _me(oidc_app, first)
    assert old.status_code == 401
    assert "token signing key not found" in old.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": datetime.now(UTC) - timedelta(minutes=1)}, "token has expired"),
        ({"aud": "account"}, "token audience is not this service"),
        ({"iss": "http://127.0.0.1:1/realms/other"}, "token issuer is not trusted"),
        ({"preferred_username": "nobody.here"}, "no active account for this token"),
    ],
)
async def test_bad_tokens_are_401_with_a_clear_message(
    oidc_app: FastAPI, provider: Provider, overrides: dict[str, Any], message: str
) -> None:
    response = await _me(oidc_app, provider.token("key-1", **overrides))
    assert response.status_code == 401
    assert response.json()["detail"]["message"] == message


def test_unknown_kids_do_not_flood_the_provider(provider: Provider) -> None:
    now = [1000.0]
    keys = OidcKeys(provider.issuer, ttl_seconds=300, min_refetch_seconds=10, clock=lambda: now[0])
    keys.signing_key(provider.token("key-1"))
    assert provider.jwks_requests == 1
    forged = jwt.encode(
        {"sub": "x"},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "invented"},
    )
    for _ in range(20):
        with pytest.raises(Unauthenticated, match="token signing key not found"):
            keys.signing_key(forged)
    assert provider.jwks_requests == 2  # one refetch for the unknown kid, then rate-limited
    now[0] += 11
    with pytest.raises(Unauthenticated):
        keys.signing_key(forged)
    assert provider.jwks_requests == 3
    # Known keys are served from the cache until the TTL runs out.
    keys.signing_key(provider.token("key-1"))
    assert provider.jwks_requests == 3
    now[0] += 301
    keys.signing_key(provider.token("key-1"))
    assert provider.jwks_requests == 4


def _forged(kid: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": "x"}, key, algorithm="RS256", headers={"kid": kid})


def test_a_configured_jwks_url_refetches_once_for_unknown_kids(provider: Provider) -> None:
    # The OCPO_JWKS_URL path, as the service runs it: the real clock and a 10 s limit.
    settings = Settings(
        environment="test",
        jwks_url=provider.jwks_uri,
        jwt_issuer=provider.issuer,
        jwt_audience=AUDIENCE,
    )
    assert verify_token(settings, provider.token("key-1"))["preferred_username"] == "unmik.analyst"
    assert provider.jwks_requests == 1
    forged = _forged("invented")
    for _ in range(20):
        with pytest.raises(Unauthenticated, match="token signing key not found"):
            verify_token(settings, forged)
    assert provider.jwks_requests == 2  # one refetch for the unknown kid, then rate-limited
    verify_token(settings, provider.token("key-1"))
    assert provider.jwks_requests == 2


def test_a_configured_jwks_url_follows_rotation_after_the_limit(provider: Provider) -> None:
    now = [1000.0]
    keys = JwksKeys(provider.jwks_uri, ttl_seconds=300, min_refetch_seconds=10, clock=lambda: now[0])
    keys.signing_key(provider.token("key-1"))
    with pytest.raises(Unauthenticated):
        keys.signing_key(_forged("key-2"))  # not published yet: one refetch, nothing found
    assert provider.jwks_requests == 2
    provider.rotate("key-2")
    now[0] += 5
    with pytest.raises(Unauthenticated):
        keys.signing_key(provider.token("key-2"))  # within the window: not asked again
    assert provider.jwks_requests == 2
    now[0] += 6
    keys.signing_key(provider.token("key-2"))
    assert provider.jwks_requests == 3


def test_discovery_must_name_the_configured_issuer(provider: Provider) -> None:
    keys = OidcKeys(provider.issuer + "-elsewhere")
    with pytest.raises(Unavailable, match="identity provider unavailable"):
        keys.signing_key(provider.token("key-1"))


def test_configured_claim_names_the_user() -> None:
    settings = _settings("https://sso.example.org/realms/ocpo", jwt_user_claim="email")
    assert settings.token_issuer == "https://sso.example.org/realms/ocpo"
    production = Settings(
        environment="production",
        oidc_issuer="https://sso.example.org/realms/ocpo",
        jwt_audience=AUDIENCE,
        database_url="postgresql+psycopg://ocpo@db/ocpo",
    )
    assert production.token_issuer == "https://sso.example.org/realms/ocpo"


async def test_the_login_claim_is_configurable(db_url: str, provider: Provider) -> None:
    application = create_app(
        database_url=db_url, settings=_settings(provider.issuer, jwt_user_claim="ocpo_login")
    )
    try:
        token = provider.token("key-1", preferred_username="someone.else", ocpo_login="kfor.j2")
        response = await _me(application, token)
        assert response.status_code == 200, response.text
        assert response.json()["login"] == "kfor.j2"
    finally:
        await application.state.sessionmaker.kw["bind"].dispose()
