"""Tokens as identity providers issue them: only access tokens sign in, clocks may differ
a little, and a provider that cannot be reached is a 503 to retry, not a 401."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI

from ocpo_coord.app import create_app
from ocpo_coord.auth.jwks import JwksKeys
from ocpo_coord.exceptions import Unavailable
from tests.auth.test_oidc import _me, _settings, backend, oidc_app, provider
from tests.fixtures.oidc import AUDIENCE, Provider

__all__ = ["backend", "oidc_app", "provider"]  # fixtures, shared with test_oidc


def signed(provider: Provider, *, header_type: str | None = None, **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "aud": AUDIENCE,
        "sub": "f3a1c2d4",
        "preferred_username": "unmik.analyst",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    headers: dict[str, Any] = {"kid": "key-1"}
    if header_type is not None:
        headers["typ"] = header_type
    return jwt.encode(claims, provider.keys["key-1"], algorithm="RS256", headers=headers)


@pytest.mark.parametrize(
    ("header_type", "claims"),
    [
        (None, {"typ": "Bearer", "azp": "ocpo-coord-web"}),  # Keycloak's access token
        ("at+jwt", {"client_id": "ocpo-coord-web"}),  # RFC 9068
        ("application/at+jwt", {}),
        (None, {}),  # a provider that marks neither
    ],
)
async def test_access_tokens_sign_in(
    oidc_app: FastAPI, provider: Provider, header_type: str | None, claims: dict[str, Any]
) -> None:
    response = await _me(oidc_app, signed(provider, header_type=header_type, **claims))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("header_type", "claims", "message"),
    [
        # Keycloak's ID token for a client whose id is the configured audience.
        (None, {"typ": "ID", "azp": AUDIENCE, "nonce": "n-0S6"}, "an ID token is not an access token"),
        (None, {"typ": "Refresh"}, "a 'Refresh' token is not an access token"),
        ("id+jwt", {}, "token of type 'id+jwt' is not an access token"),
        ("logout+jwt", {}, "token of type 'logout+jwt' is not an access token"),
    ],
)
async def test_id_and_other_tokens_are_refused_with_a_clear_401(
    oidc_app: FastAPI, provider: Provider, header_type: str | None, claims: dict[str, Any], message: str
) -> None:
    response = await _me(oidc_app, signed(provider, header_type=header_type, **claims))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]["message"].startswith(message), response.text


async def test_a_clock_a_few_seconds_apart_is_tolerated(oidc_app: FastAPI, provider: Provider) -> None:
    now = datetime.now(UTC)
    ahead = signed(provider, iat=now + timedelta(seconds=5), nbf=now + timedelta(seconds=5))
    just_expired = signed(provider, iat=now - timedelta(minutes=5), exp=now - timedelta(seconds=5))
    far_ahead = signed(provider, iat=now + timedelta(minutes=10), nbf=now + timedelta(minutes=10))
    assert (await _me(oidc_app, ahead)).status_code == 200
    assert (await _me(oidc_app, just_expired)).status_code == 200
    refused = await _me(oidc_app, far_ahead)
    assert refused.status_code == 401
    assert "not yet valid" in refused.json()["detail"]["message"]


async def test_the_leeway_is_a_setting(db_url: str, provider: Provider) -> None:
    app = create_app(database_url=db_url, settings=_settings(provider.issuer, jwt_leeway_seconds=0))
    try:
        now = datetime.now(UTC)
        response = await _me(app, signed(provider, iat=now + timedelta(seconds=20), nbf=now))
        assert response.status_code == 401
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()


async def test_an_unreachable_provider_is_a_503_with_retry_after(db_url: str, provider: Provider) -> None:
    token = signed(provider)
    provider.server.shutdown()
    provider.server.server_close()
    app = create_app(database_url=db_url, settings=_settings(provider.issuer))
    try:
        response = await _me(app, token)
    finally:
        await app.state.sessionmaker.kw["bind"].dispose()
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()["detail"]
    assert body["code"] == "UNAVAILABLE"
    assert body["message"].startswith("identity provider unavailable")


def test_cached_keys_serve_while_the_provider_is_away_until_they_expire(provider: Provider) -> None:
    now = [1000.0]
    up = [True]

    def fetch(url: str) -> dict[str, Any]:
        if not up[0]:
            raise ValueError("connection refused")
        return {"keys": [provider.jwk("key-1")]}

    keys = JwksKeys(
        provider.jwks_uri, ttl_seconds=300, min_refetch_seconds=10, fetch=fetch, clock=lambda: now[0]
    )
    token = signed(provider)
    assert keys.signing_key(token) is not None
    up[0] = False
    now[0] += 299
    assert keys.signing_key(token) is not None  # within the keys' lifetime
    now[0] += 2  # past it, and the provider still away
    with pytest.raises(Unavailable) as refused:
        keys.signing_key(token)
    assert refused.value.retry_after == 10
    up[0] = True
    now[0] += 10
    assert keys.signing_key(token) is not None  # back: fetched again
